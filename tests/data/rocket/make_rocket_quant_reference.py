"""Reference values for tscpipe's ROCKET, QUANT and extremely randomised trees.

Regenerate (from the repository root; aeon 1.6 brings numba, scikit-learn and NumPy):
    python3 -m venv /work/venvs/aeon && /work/venvs/aeon/bin/pip install aeon==1.6.0
    /work/venvs/aeon/bin/python tests/data/rocket/make_rocket_quant_reference.py tests/data/rocket [rocket|quant]

ROCKET (`rocket_<name>.json`): aeon's own `Rocket(n_kernels=200, random_state=0)` (numba) fitted on
TRAIN of GunPoint (univariate) and BasicMotions (6 channels); its kernels (length, channels,
weights, bias, dilation, padding) and its features of the first TRAIN and TEST series, so the
test applies aeon's kernels with tscpipe's code.

QUANT (`quant_<name>.json`): aeon's `QUANTTransformer` needs PyTorch, which this venv does not
hold; below is a NumPy transcription of it (aeon 1.6,
`transformations/collection/interval_based/_quant.py`), in float32 as PyTorch computes it, with
`torch.linspace`'s float32 formula and `torch.quantile`'s linear interpolation (NumPy's
"linear" method). Its features of the first TRAIN and TEST series of the four bundled univariate
datasets and BasicMotions, and the feature count.

Extremely randomised trees: scikit-learn's `ExtraTreesClassifier(n_estimators=200,
max_features=0.1, criterion="entropy", random_state=s)` (QUANT's classifier) on those features of
the archive's split, test accuracy for s = 0..9 and its mean: tscpipe's forest draws from another
generator, so the test compares the mean over seeds.
"""
import json
import os
import sys

import numpy as np
from aeon.datasets import load_from_ts_file
from aeon.transformations.collection.convolution_based import Rocket
from sklearn.ensemble import ExtraTreesClassifier

UNIVARIATE = ["GunPoint", "ItalyPowerDemand", "Coffee", "ArrowHead"]


def load(name, split):
    tsv = os.path.join("data", name, f"{name}_{split}.tsv")
    if os.path.exists(tsv):
        rows = [line.rstrip("\n").split("\t") for line in open(tsv) if line.strip()]
        X = np.array([[float(v) for v in r[1:]] for r in rows], dtype=np.float64)[:, None, :]
        return X, np.array([r[0] for r in rows])
    X, y = load_from_ts_file(os.path.join("data", name, f"{name}_{split}.ts"))
    return np.asarray(X, dtype=np.float64), y


def f32_list(a):
    return [float(str(np.float32(v))) for v in np.asarray(a, dtype=np.float32).ravel()]


# -- ROCKET ----------------------------------------------------------------------------------------


def rocket_reference(name):
    Xtr, _ = load(name, "TRAIN")
    Xte, _ = load(name, "TEST")
    t = Rocket(n_kernels=200, random_state=0)
    t.fit(Xtr)
    weights, lengths, biases, dilations, paddings, n_channels, channels = t.kernels
    kernels = []
    a1 = a2 = 0
    for i in range(len(lengths)):
        b1 = a1 + int(n_channels[i]) * int(lengths[i])
        b2 = a2 + int(n_channels[i])
        kernels.append(
            {
                "length": int(lengths[i]),
                "channels": [int(c) for c in channels[a2:b2]],
                "weights": f32_list(weights[a1:b1]),
                "bias": float(str(np.float32(biases[i]))),
                "dilation": int(dilations[i]),
                "padding": int(paddings[i]),
            }
        )
        a1, a2 = b1, b2
    return {
        "aeon": __import__("aeon").__version__,
        "kernels": kernels,
        "train_first": f32_list(t.transform(Xtr[:3])),
        "test_first": f32_list(t.transform(Xte[:3])),
    }


# -- QUANT (NumPy transcription of aeon's QUANTTransformer, float32 as PyTorch) --------------------


def torch_linspace(start, end, steps):
    """torch.linspace in float32: start + step*i for the first half, end - step*(steps-1-i) after."""
    if steps == 1:
        return np.array([start], dtype=np.float32)
    step = np.float32((end - start) / (steps - 1))
    half = steps // 2
    out = np.empty(steps, dtype=np.float32)
    for i in range(steps):
        if i < half:
            out[i] = np.float32(start) + step * np.float32(i)
        else:
            out[i] = np.float32(end) - step * np.float32(steps - 1 - i)
    return out


def make_intervals(input_length, depth=6):
    exponent = min(depth, int(np.log2(input_length)) + 1)
    intervals = []
    for n in 2 ** np.arange(exponent):
        indices = torch_linspace(0, input_length, n + 1).astype(np.int64)
        intervals_n = np.stack((indices[:-1], indices[1:]), 1)
        intervals.append(intervals_n)
        diffs = np.diff(intervals_n).ravel()
        # torch.median: the lower of the two middle values
        if n > 1 and np.sort(diffs)[(len(diffs) - 1) // 2] > 1:
            shift = int(np.ceil(input_length / n / 2))
            intervals.append(intervals_n[:-1] + shift)
    return np.concatenate(intervals)


def torch_quantile(X, q):
    """torch.quantile(X, q, dim=-1), linear, float32: (len(q), ...)."""
    s = np.sort(X, axis=-1)
    n = X.shape[-1]
    out = []
    for qq in q:
        rank = np.float32(qq) * np.float32(n - 1)
        lo = int(np.floor(rank))
        hi = int(np.ceil(rank))
        w = np.float32(rank - np.float32(lo))
        a, b = s[..., lo], s[..., hi]
        # torch.lerp
        out.append(np.where(w < 0.5, a + w * (b - a), b - (b - a) * (np.float32(1) - w)).astype(np.float32))
    return np.stack(out)


def find_quantiles(X, div=4):
    n = X.shape[-1]
    if n == 1:
        return X
    num_quantiles = 1 + (n - 1) // div
    if num_quantiles == 1:
        return np.transpose(torch_quantile(X, [np.float32(0.5)]), (1, 2, 0))
    q = np.transpose(torch_quantile(X, torch_linspace(0, 1, num_quantiles)), (1, 2, 0)).copy()
    q[..., 1::2] = q[..., 1::2] - X.mean(-1, keepdims=True, dtype=np.float32)
    return q


def representations(X):
    d = np.diff(X, axis=-1).astype(np.float32)
    p = np.concatenate([d[..., :1], d[..., :1], d, d[..., -1:], d[..., -1:]], axis=-1)
    smooth = np.stack([p[..., i : i + 5].sum(-1, dtype=np.float32) / np.float32(5) for i in range(d.shape[-1])], -1)
    d2 = np.diff(d, axis=-1).astype(np.float32)
    mag = np.abs(np.fft.rfft(X.astype(np.float64), axis=-1)).astype(np.float32)
    return [X, smooth.astype(np.float32), d2, mag]


def quant_transform(X):
    X = X.astype(np.float32)
    reps = representations(X)
    Xt = []
    for Z in reps:
        feats = [find_quantiles(Z[..., a:b]) for a, b in make_intervals(Z.shape[-1])]
        Xt.append(np.concatenate(feats, -1))
    Xt = np.concatenate(Xt, -1)  # (n, channels, features)
    return Xt.reshape(Xt.shape[0], -1)


def quant_reference(name, forest):
    Xtr, ytr = load(name, "TRAIN")
    Xte, yte = load(name, "TEST")
    Ftr, Fte = quant_transform(Xtr), quant_transform(Xte)
    out = {
        "features": int(Ftr.shape[1]),
        "train_first": f32_list(Ftr[:2]),
        "test_first": f32_list(Fte[:2]),
    }
    if forest:
        accs = []
        for s in range(10):
            clf = ExtraTreesClassifier(n_estimators=200, max_features=0.1, criterion="entropy", random_state=s)
            clf.fit(Ftr, ytr)
            accs.append(float(np.mean(clf.predict(Fte) == yte)))
        out["extra_trees_accuracy"] = accs
        out["extra_trees_mean"] = float(np.mean(accs))
    return out


def main():
    out_dir = sys.argv[1]
    only = sys.argv[2] if len(sys.argv) > 2 else None  # "rocket" or "quant"
    for name in ["GunPoint", "BasicMotions"] if only != "quant" else []:
        with open(os.path.join(out_dir, f"rocket_{name}.json"), "w") as f:
            json.dump(rocket_reference(name), f)
    for name in UNIVARIATE + ["BasicMotions"] if only != "rocket" else []:
        with open(os.path.join(out_dir, f"quant_{name}.json"), "w") as f:
            json.dump(quant_reference(name, name in UNIVARIATE), f)


if __name__ == "__main__":
    main()
