"""The reference a user would otherwise pick: the same LSTM-FCN training step in PyTorch on the
same CPU (forward, backward, Adam), for `cargo bench --bench train_step -- --torch PYTHON`.

Install (kept out of the default test path: the plain PyPI torch wheel pulls ~5 GB of CUDA wheels):
    python3 -m venv .venv-torch && .venv-torch/bin/pip install torch numpy
(or, where download.pytorch.org is reachable, `--index-url https://download.pytorch.org/whl/cpu`).

Model (SPEC.md §2): Conv1d 128×8 / 256×5 / 128×3 "same", BatchNorm (eps 1e-3, Keras momentum
0.99), ReLU, global average pooling; dimension shuffle → LSTM(8 cells) over C steps of T
features, Dropout 0.8; concat → Linear → log-softmax; Adam(lr 1e-3, eps 1e-7).
"""
import argparse
import time

import torch
from torch import nn


class LstmFcn(nn.Module):
    def __init__(self, c, t, classes, cells=8):
        super().__init__()
        layers = []
        cin = c
        for f, k in [(128, 8), (256, 5), (128, 3)]:
            layers += [nn.Conv1d(cin, f, k, padding="same"), nn.BatchNorm1d(f, eps=1e-3, momentum=0.01), nn.ReLU()]
            cin = f
        self.fcn = nn.Sequential(*layers)
        self.lstm = nn.LSTM(input_size=t, hidden_size=cells, batch_first=True)
        self.drop = nn.Dropout(0.8)
        self.head = nn.Linear(128 + cells, classes)

    def forward(self, x):  # x: (B, C, T)
        f = self.fcn(x).mean(dim=2)
        _, (h, _) = self.lstm(x)  # dimension shuffle: C steps of T features
        return self.head(torch.cat([f, self.drop(h[-1])], dim=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--length", type=int, default=150)
    ap.add_argument("--steps", type=int, default=10)
    a = ap.parse_args()
    torch.manual_seed(0)
    model = LstmFcn(1, a.length, 2)
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
    print(f"torch {torch.__version__} threads {torch.get_num_threads()}")
    print(f"ms_per_step {times[len(times) // 2]:.3f}")


if __name__ == "__main__":
    main()
