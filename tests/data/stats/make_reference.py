"""Reference values for tscpipe's statistics, computed with SciPy and statsmodels.

Regenerate (from the repository root):
    python3 -m venv .venv && .venv/bin/pip install scipy statsmodels
    .venv/bin/python tests/data/stats/make_reference.py > tests/data/stats/reference.json

Scores are integer counts (correct out of `total`) so that SciPy's float arithmetic is exact and
ties/zero differences are the same on both sides; tscpipe reads them as decimals count/total.
"""
import json
import sys

import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.multitest import multipletests


def friedman(x):
    n, k = x.shape
    if k >= 3:
        r = stats.friedmanchisquare(*[x[:, j] for j in range(k)])
        chi2, p = float(r.statistic), float(r.pvalue)
    else:  # SciPy needs k >= 3: same formula by hand (tie-corrected, as SciPy)
        ranks = np.apply_along_axis(stats.rankdata, 1, x)
        ties = sum(((np.unique(row, return_counts=True)[1]) ** 3 - np.unique(row, return_counts=True)[1]).sum() for row in x)
        c = 1 - ties / (k * (k * k - 1) * n)
        chi2 = (12.0 / (k * n * (k + 1)) * (ranks.sum(axis=0) ** 2).sum() - 3 * n * (k + 1)) / c
        p = float(stats.chi2.sf(chi2, k - 1))
    denom = n * (k - 1) - chi2
    if denom <= 1e-12:  # every dataset ranks the methods alike: F infinite (JSON null)
        return chi2, p, None, 0.0
    f = (n - 1) * chi2 / denom
    fp = float(stats.f.sf(f, k - 1, (k - 1) * (n - 1)))
    return chi2, p, f, fp


def case(name, x, total, zero_method="wilcox", correction=True):
    n, k = x.shape
    ranks = np.apply_along_axis(lambda r: stats.rankdata(-r), 1, x)  # rank 1 = highest
    chi2, p, f, fp = friedman(x)
    pairs = []
    for a in range(k):
        for b in range(a + 1, k):
            w = stats.wilcoxon(x[:, a], x[:, b], zero_method=zero_method, correction=correction)
            pairs.append({"a": a, "b": b, "statistic": float(w.statistic), "p": float(w.pvalue)})
    holm = multipletests([q["p"] for q in pairs], method="holm")[1]
    for q, h in zip(pairs, holm):
        q["p_holm"] = float(h)
    return {
        "name": name,
        "total": total,
        "counts": x.tolist(),
        "zero_method": zero_method,
        "correction": correction,
        "average_ranks": ranks.mean(axis=0).tolist(),
        "friedman_chi2": float(chi2),
        "friedman_p": p,
        "iman_davenport_f": None if f is None else float(f),
        "iman_davenport_p": fp,
        "pairs": pairs,
    }


def main():
    rng = np.random.default_rng(20261124)
    cases = []
    for n in [5, 6, 8, 10, 12, 13, 14, 20, 30, 50, 51, 80, 150]:
        for k in [2, 3, 5, 10]:
            # "continuous": large total, distinct values (exact path for small n, no zeros)
            skill = rng.normal(0, 0.03, size=k)
            base = rng.uniform(0.6, 0.95, size=(n, 1))
            x = np.clip(base + skill + rng.normal(0, 0.04, size=(n, k)), 0, 1)
            cases.append(case(f"distinct n={n} k={k}", np.round(x * 100000).astype(int), 100000))
            # "coarse": accuracies on small test sets -> many ties and zero differences
            total = 30
            xc = np.clip(np.round((base + skill + rng.normal(0, 0.05, size=(n, k))) * total), 0, total).astype(int)
            for zm in ["wilcox", "pratt", "zsplit"]:
                # SciPy's permutation path (n <= 13 with ties/zeros) takes ~5 s a pair: keep k small there
                if n <= 13 and (n not in [5, 8, 13] or k == 10 or (k == 5 and zm != "wilcox")):
                    continue
                cases.append(case(f"coarse n={n} k={k} {zm}", xc, total, zero_method=zm))
            if n in [20, 150]:
                cases.append(case(f"coarse n={n} k={k} no-correction", xc, total, correction=False))
    q = []
    for alpha in [0.01, 0.05, 0.1]:
        for k in range(2, 21):
            q.append({"alpha": alpha, "k": k, "q_alpha": float(stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2))})
    out = {
        "generator": "tests/data/stats/make_reference.py",
        "versions": {"scipy": scipy.__version__, "numpy": np.__version__, "statsmodels": statsmodels.__version__,
                     "python": sys.version.split()[0]},
        "cases": cases,
        "q_alpha": q,
    }
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
