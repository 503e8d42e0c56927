"""The reference a user would otherwise pick: one InceptionTime (or LITE) training step in PyTorch
on the same CPU (forward, backward, Adam), for
`cargo bench --bench train_step -- --model inception_time --torch PYTHON`.

Install (kept out of the default test path: the plain PyPI torch wheel pulls ~5 GB of CUDA wheels):
    python3 -m venv /work/venvs/torch && /work/venvs/torch/bin/pip install torch numpy

Transcribed from the Keras originals (hfawaz/InceptionTime classifiers/inception.py; aeon's
InceptionNetwork and LITENetwork), as tscpipe's src/models/inception.rs and lite.rs build them:
convolutions without bias, "same" padding (PyTorch's padding="same" puts the odd zero on the
right, as Keras), BatchNorm eps 1e-3 / Keras momentum 0.99, ReLU, GAP, a linear head; Adam(lr
1e-3, eps 1e-7) on the cross-entropy. Prints the parameter count so both sides can be compared.
"""
import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn


def bn(c):
    return nn.BatchNorm1d(c, eps=1e-3, momentum=0.01)


class InceptionModule(nn.Module):
    def __init__(self, cin, filters=32, kernel=40, bottleneck=32):
        super().__init__()
        self.bottleneck = nn.Conv1d(cin, bottleneck, 1, bias=False) if cin > 1 else None
        inner = bottleneck if cin > 1 else cin
        self.convs = nn.ModuleList(
            [nn.Conv1d(inner, filters, kernel // 2**i, padding="same", bias=False) for i in range(3)]
        )
        self.pool = nn.MaxPool1d(3, stride=1, padding=1)
        self.pool_conv = nn.Conv1d(cin, filters, 1, bias=False)
        self.norm = bn(4 * filters)

    def forward(self, x):
        inner = self.bottleneck(x) if self.bottleneck is not None else x
        branches = [c(inner) for c in self.convs] + [self.pool_conv(self.pool(x))]
        return F.relu(self.norm(torch.cat(branches, dim=1)))


class InceptionNet(nn.Module):
    def __init__(self, cin, classes, depth=6, filters=32):
        super().__init__()
        width = 4 * filters
        self.modules_ = nn.ModuleList([InceptionModule(cin if d == 0 else width) for d in range(depth)])
        self.shortcuts = nn.ModuleList(
            [nn.Sequential(nn.Conv1d(cin if s == 0 else width, width, 1, bias=False), bn(width)) for s in range(depth // 3)]
        )
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        res = x
        for d, m in enumerate(self.modules_):
            x = m(x)
            if d % 3 == 2:
                x = F.relu(x + self.shortcuts[d // 3](res))
                res = x
        return self.head(x.mean(dim=2))


def hybrid_filters():
    """aeon's hand-crafted filters: increasing, decreasing (lengths 2..64) and peak detectors."""
    out = []
    for first_negative in (True, False):
        for k in (2, 4, 8, 16, 32, 64):
            out.append([-1.0 if (i % 2 == 0) == first_negative else 1.0 for i in range(k)])
    for k in (4, 8, 16, 32, 64):
        q = k // 4
        left = [((i + 1) / q) ** 2 for i in range(q)]
        right = left[::-1]
        out.append([-v for v in left] + [-v for v in right] + [2 * v for v in left] + [2 * v for v in right]
                   + [-v for v in left] + [-v for v in right])
    return out


class Lite(nn.Module):
    def __init__(self, cin, classes, filters=32, kernel=40):
        super().__init__()
        self.convs = nn.ModuleList(
            [nn.Conv1d(cin, filters, kernel // 2**i, padding="same", bias=False) for i in range(3)]
        )
        self.filters = [torch.tensor(f).repeat(cin, 1).unsqueeze(0) for f in hybrid_filters()]
        width = 3 * filters + len(self.filters)
        self.norm = bn(width)
        seps = []
        cin_ = width
        for div, dil in ((2, 2), (4, 4)):
            seps.append(nn.Sequential(
                nn.Conv1d(cin_, cin_, kernel // div, dilation=dil, groups=cin_, padding="same", bias=False),
                nn.Conv1d(cin_, filters, 1, bias=False),
                bn(filters),
                nn.ReLU(),
            ))
            cin_ = filters
        self.seps = nn.Sequential(*seps)
        self.head = nn.Linear(filters, classes)

    def forward(self, x):
        hybrid = F.relu(torch.cat([F.conv1d(x, w, padding="same") for w in self.filters], dim=1))
        y = F.relu(self.norm(torch.cat([c(x) for c in self.convs] + [hybrid], dim=1)))
        return self.head(self.seps(y).mean(dim=2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["inception_time", "lite"], default="inception_time")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--length", type=int, default=500)
    ap.add_argument("--steps", type=int, default=10)
    a = ap.parse_args()
    torch.manual_seed(0)
    model = InceptionNet(1, 2) if a.model == "inception_time" else Lite(1, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    x = torch.rand(a.batch, 1, a.length) * 2 - 1
    y = torch.arange(a.batch) % 2
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for i in range(2 + a.steps):
        s = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if i >= 2:
            times.append((time.perf_counter() - s) * 1e3)
    times.sort()
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"torch {torch.__version__} threads {torch.get_num_threads()} params {params}")
    print(f"ms_per_step {times[len(times) // 2]:.3f}")


if __name__ == "__main__":
    main()
