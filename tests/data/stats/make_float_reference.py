"""Float64 reference values for tscpipe's default (SciPy-compatible) arithmetic.

Regenerate (from the repository root):
    python3 -m venv /work/venvs/scipy && /work/venvs/scipy/bin/pip install scipy==1.17.1 statsmodels pandas
    /work/venvs/scipy/bin/python tests/data/stats/make_float_reference.py > tests/data/stats/float_reference.json

Scores are decimals as a results table prints them (0.54, 0.37, ...), parsed with Python's
float(); SciPy then subtracts float64 values, so equal decimal gaps (0.54 - 0.37 and 0.64 - 0.47)
do not tie. Every Wilcoxon option is covered: zero_method pratt/wilcox/zsplit, continuity
correction on/off, alternative two-sided/greater/less. For one-sided tests each pair is tested
as (better average rank, worse), as aeon does and tscpipe documents. A second block has 30
resamples per (dataset, method) in a long table, resample-major: the per-cell means are
pandas' groupby(...).mean().
"""
import json
import struct
import sys

import numpy as np
import pandas as pd
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.multitest import multipletests


def analyse(x, zero_method, correction, alternative):
    n, k = x.shape
    ranks = np.apply_along_axis(lambda r: stats.rankdata(-r), 1, x)  # rank 1 = highest
    avg = ranks.mean(axis=0)
    out = {"average_ranks": avg.tolist()}
    if k >= 3:
        r = stats.friedmanchisquare(*[x[:, j] for j in range(k)])
        out["friedman_chi2"], out["friedman_p"] = float(r.statistic), float(r.pvalue)
    pairs = []
    for i in range(k):
        for j in range(i + 1, k):
            a, b = (j, i) if alternative != "two-sided" and avg[j] < avg[i] else (i, j)
            w = stats.wilcoxon(x[:, a], x[:, b], zero_method=zero_method, correction=correction,
                               alternative=alternative)
            pairs.append({"a": a, "b": b, "statistic": float(w.statistic), "p": float(w.pvalue)})
    holm = multipletests([q["p"] for q in pairs], method="holm")[1]
    for q, h in zip(pairs, holm):
        q["p_holm"] = float(h)
    out["pairs"] = pairs
    return out


def decimal_cases(rng):
    cases = []
    for n, k, decimals in [(8, 3, 2), (12, 4, 2), (20, 3, 2), (30, 5, 2), (60, 4, 2), (128, 6, 4), (40, 3, 1)]:
        skill = rng.normal(0, 0.03, size=k)
        base = rng.uniform(0.3, 0.9, size=(n, 1))
        x = np.clip(base + skill + rng.normal(0, 0.05, size=(n, k)), 0, 1)
        text = [[f"{v:.{decimals}f}" for v in row] for row in x]
        # many equal decimal gaps: shift a copy of method 0 by exactly 0.17 on some rows
        for row in text[: n // 2]:
            row[1] = f"{float(row[0]) - 0.17:.{decimals}f}" if float(row[0]) >= 0.17 else row[1]
        vals = np.array([[float(v) for v in row] for row in text])
        for zm in ["pratt", "wilcox", "zsplit"]:
            for corr in [False, True]:
                for alt in ["two-sided", "greater", "less"]:
                    # SciPy's permutation path (n <= 13 with ties/zeros) is slow: fewer variants there
                    if n <= 13 and (corr or zm == "zsplit"):
                        continue
                    c = {"name": f"decimals n={n} k={k} {zm} correction={corr} {alt}", "values": text,
                         "zero_method": zm, "correction": corr, "alternative": alt}
                    c.update(analyse(vals, zm, corr, alt))
                    cases.append(c)
    return cases


def resample_case(rng):
    n, k, r = 25, 4, 30
    cells = {}
    for d in range(n):
        base = rng.uniform(0.4, 0.95)
        total = int(rng.integers(20, 400))
        for m in range(k):
            for s in range(r):
                acc = np.clip(base + 0.01 * m + rng.normal(0, 0.04), 0, 1)
                cells[(d, m, s)] = repr(float(round(acc * total) / total))
    # resample-major rows (as dl-4-tsc writes its iterations): a group's rows are not
    # contiguous, so pandas takes its compensated-summation path (with contiguous groups
    # pandas >= 3.1 sums with NumPy's reduceat instead, which differs in the last bits)
    rows = [(f"d{d}", f"m{m}", s, cells[(d, m, s)]) for s in range(r) for d in range(n) for m in range(k)]
    df = pd.DataFrame(rows, columns=["dataset", "method", "resample", "accuracy"])
    df["accuracy"] = df["accuracy"].astype(float)
    means = df.groupby(["dataset", "method"], sort=False)["accuracy"].mean().unstack("method")
    sds = df.groupby(["dataset", "method"], sort=False)["accuracy"].std().unstack("method")
    datasets = [f"d{d}" for d in range(n)]
    methods = [f"m{m}" for m in range(k)]
    means, sds = means.loc[datasets, methods], sds.loc[datasets, methods]
    csv = "dataset,method,resample,accuracy\n" + "".join(f"{a},{b},{c},{v}\n" for a, b, c, v in rows)
    # the means' bit patterns: JSON number parsers need not round correctly (serde_json's does not)
    bits = [[struct.unpack("<Q", struct.pack("<d", v))[0] for v in row] for row in means.values.tolist()]
    c = {"name": "30 resamples, long table", "csv": csv, "means": means.values.tolist(), "mean_bits": bits,
         "sds": sds.values.tolist(), "zero_method": "pratt", "correction": False, "alternative": "two-sided"}
    c.update(analyse(means.values, "pratt", False, "two-sided"))
    return c


def main():
    rng = np.random.default_rng(20261201)
    out = {
        "generator": "tests/data/stats/make_float_reference.py",
        "versions": {"scipy": scipy.__version__, "numpy": np.__version__, "pandas": pd.__version__,
                     "statsmodels": statsmodels.__version__, "python": sys.version.split()[0]},
        "cases": decimal_cases(rng),
        "resamples": resample_case(rng),
    }
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
