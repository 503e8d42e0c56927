"""Reference values for tscpipe's `features` stage, computed with NumPy, SciPy and PyWavelets.

Regenerate (from the repository root):
    python3 -m venv .venv && .venv/bin/pip install numpy scipy PyWavelets
    .venv/bin/python tests/data/features/make_reference.py > tests/data/features/reference.json

Made with Python 3 and numpy 2.4.6, scipy 1.17.1, PyWavelets 1.8.0 (the script records the
versions it ran with in the JSON). The definitions follow `src/classic/features.rs` line by line:
biased (population) moments, excess kurtosis, the one-sided rfft spectrum with DC, and the detail
energy of a db4 DWT in periodization mode. The series are real bundled data read from `data/`:
the first series of each class of GunPoint, ItalyPowerDemand (length 24), ArrowHead (length 251:
odd, so the DWT's odd-length rule is exercised) and Coffee TRAIN, and the first two BasicMotions
TRAIN cases (6 channels of 100 steps).
"""
import json
import sys
from pathlib import Path

import numpy as np
import pywt
import scipy
from scipy import stats

ROOT = Path(__file__).resolve().parents[3]
LEVELS = 4


def tsv(name):
    rows = [l.split("\t") for l in (ROOT / "data" / name / f"{name}_TRAIN.tsv").read_text().splitlines() if l.strip()]
    return [(r[0], np.array([float(v) for v in r[1:]])) for r in rows]


def ts_cases(name):
    text = (ROOT / "data" / name / f"{name}_TRAIN.ts").read_text().splitlines()
    start = next(i for i, l in enumerate(text) if l.strip().lower() == "@data") + 1
    out = []
    for line in text[start:]:
        if not line.strip():
            continue
        *dims, label = line.strip().split(":")
        out.append((label, [np.array([float(v) for v in d.split(",")]) for d in dims]))
    return out


def levels_for(n):
    return max(1, min(LEVELS, pywt.dwt_max_level(n, pywt.Wavelet("db4").dec_len)))


def features(x):
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    power = np.abs(np.fft.rfft(x)) ** 2 / n
    f = np.arange(len(power)) / n
    p = power / power.sum()
    mu = (p * f).sum()
    var = (p * (f - mu) ** 2).sum()
    sd = np.sqrt(var)
    coeffs = pywt.wavedec(x, "db4", mode="periodization", level=levels_for(n))
    return {
        "rms": float(np.sqrt(np.mean(x**2))),
        "variance": float(np.var(x)),
        "max": float(np.max(x)),
        "skewness": float(stats.skew(x)),
        "kurtosis": float(stats.kurtosis(x)),
        "peak_to_peak": float(np.ptp(x)),
        "spectral_power": float(power.sum()),
        "spectral_skewness": float((p * (f - mu) ** 3).sum() / sd**3),
        "spectral_kurtosis": float((p * (f - mu) ** 4).sum() / var**2),
        "wavelet_energy": float(sum((d**2).sum() for d in coeffs[1:])),
    }


def first_per_class(cases):
    seen, out = set(), []
    for i, (label, x) in enumerate(cases):
        if label not in seen:
            seen.add(label)
            out.append((i, label, x))
    return out


series = []
for name in ["GunPoint", "ItalyPowerDemand", "ArrowHead", "Coffee"]:
    for i, label, x in first_per_class(tsv(name)):
        series.append({"dataset": name, "split": "train", "index": i, "label": label, "length": len(x),
                       "wavelet_levels": levels_for(len(x)), "channels": [features(x)]})
for i, (label, dims) in enumerate(ts_cases("BasicMotions")[:2]):
    series.append({"dataset": "BasicMotions", "split": "train", "index": i, "label": label, "length": len(dims[0]),
                   "wavelet_levels": levels_for(len(dims[0])), "channels": [features(d) for d in dims]})

json.dump({
    "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__,
                 "pywavelets": pywt.__version__},
    "wavelet_levels": LEVELS,
    "series": series,
}, sys.stdout, indent=1)
print()
