"""The PyTorch side of the GPU check (scripts/gpu-check.sh): one training step (forward, backward,
Adam, the loss read back) of LSTM-FCN and of InceptionTime, the reference a user would otherwise
pick, timed on the same GPU as tscpipe, one line per model and size:

    torch lstm_fcn B=50 T=150: 3.1 ms

Needs only torch (with CUDA for `--device cuda`): `python3 -m pip install torch`. Median of the
timed steps after two untimed ones (the first steps load cuDNN and pick its kernels); random
inputs of the sizes `tscpipe devices --bench` and the check's train stages use, two classes.

Models, as tscpipe builds them by default:
- LSTM-FCN (Karim et al. 2018; stdlib/models/lstm_fcn.toml): Conv1d 128x8 / 256x5 / 128x3 "same",
  BatchNorm (eps 1e-3), ReLU, global average pooling; dimension shuffle -> LSTM(8 cells) over C
  steps of T features, Dropout 0.8; concat -> Linear; Adam(lr 1e-3, eps 1e-7). The same model as
  benches/reference/lstm_fcn_step.py.
- InceptionTime, one Inception network (Ismail Fawaz et al. 2020; their Keras code's defaults,
  which aeon keeps): 6 modules, each a 1x1 bottleneck to 32 channels (skipped on a 1-channel
  input), convolutions of 32 filters with kernels 40/20/10 "same" and a 3-wide max pooling
  followed by a 1x1 convolution of 32 filters, all without bias, concatenated (128), BatchNorm,
  ReLU; a residual 1x1 convolution + BatchNorm shortcut every 3 modules; global average pooling
  -> Linear; Adam(lr 1e-3, eps 1e-7).
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


class InceptionModule(nn.Module):
    def __init__(self, cin, filters=32, bottleneck=32, kernel=40):
        super().__init__()
        self.bottleneck = nn.Conv1d(cin, bottleneck, 1, bias=False) if cin > 1 else None
        width = bottleneck if cin > 1 else cin
        self.convs = nn.ModuleList(
            [nn.Conv1d(width, filters, kernel // 2**i, padding="same", bias=False) for i in range(3)]
        )
        self.pool = nn.MaxPool1d(3, stride=1, padding=1)
        self.pool_conv = nn.Conv1d(cin, filters, 1, bias=False)
        self.bn = nn.BatchNorm1d(4 * filters)

    def forward(self, x):
        b = self.bottleneck(x) if self.bottleneck is not None else x
        h = torch.cat([conv(b) for conv in self.convs] + [self.pool_conv(self.pool(x))], dim=1)
        return torch.relu(self.bn(h))


class InceptionNetwork(nn.Module):
    def __init__(self, c, classes, depth=6, filters=32):
        super().__init__()
        self.modules_ = nn.ModuleList()
        self.shortcuts = nn.ModuleList()
        cin, res_in = c, c
        for d in range(depth):
            self.modules_.append(InceptionModule(cin, filters))
            cin = 4 * filters
            if d % 3 == 2:
                self.shortcuts.append(nn.Sequential(nn.Conv1d(res_in, cin, 1, bias=False), nn.BatchNorm1d(cin)))
                res_in = cin
        self.head = nn.Linear(cin, classes)

    def forward(self, x):
        res = x
        for d, m in enumerate(self.modules_):
            x = m(x)
            if d % 3 == 2:
                x = torch.relu(x + self.shortcuts[d // 3](res))
                res = x
        return self.head(x.mean(dim=2))


def step_ms(name, batch, length, steps, device):
    torch.manual_seed(0)
    model = LstmFcn(1, length, 2) if name == "lstm_fcn" else InceptionNetwork(1, 2)
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    x = (torch.rand(batch, 1, length) * 2 - 1).to(device)
    y = (torch.arange(batch) % 2).to(device)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for i in range(2 + steps):
        s = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        loss.item()  # waits for the device, as tscpipe's step reads its loss back
        if i >= 2:
            times.append((time.perf_counter() - s) * 1e3)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--models", default="lstm_fcn,inception_time")
    ap.add_argument("--sizes", default="50x150x20,128x500x5", help="BxTxSTEPS,...")
    a = ap.parse_args()
    device = torch.device(a.device)
    what = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads"
    print(f"torch {torch.__version__} on {a.device} ({what}), cudnn.benchmark {torch.backends.cudnn.benchmark}")
    for name in a.models.split(","):
        for size in a.sizes.split(","):
            b, t, n = (int(v) for v in size.split("x"))
            if name == "inception_time" and b != 50:
                continue  # tscpipe's InceptionTime is timed at B=50 only (the train stage on GunPoint)
            print(f"torch {name} B={b} T={t}: {step_ms(name, b, t, n, device):.2f} ms", flush=True)


if __name__ == "__main__":
    main()
