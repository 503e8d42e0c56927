"""SciPy's statistics on the published result files bundled in data/published/, computed the way
a Python user does it, for `tscpipe analyze` on the same raw files (tests/it/stats_scipy.rs).

Regenerate (from the repository root):
    python3 -m venv /work/venvs/scipy && /work/venvs/scipy/bin/pip install scipy==1.17.1 statsmodels pandas
    /work/venvs/scipy/bin/python tests/data/stats/make_published_reference.py > tests/data/stats/published_reference.json

Per file: pandas.read_csv (its default parser gives Python's correctly rounded float() on
every number of these files, checked, as Rust parses them), means over resamples/iterations with groupby(...).mean() (long files) or over the
resample columns (aeon's `Resamples:` and `dataset,0,…,29` files, melted to long form first so
the same pandas mean applies), tables joined on dataset name (inner join where the analysis
says `--missing intersect`). Then rank 1 = highest (scipy.stats.rankdata), Friedman
(scipy.stats.friedmanchisquare), two-sided Wilcoxon with SciPy's defaults except zero_method
(pratt unless stated), Holm (statsmodels multipletests).
"""
import json
import sys

import numpy as np
import pandas as pd
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.multitest import multipletests

P = "data/published/"


def read(path):
    return pd.read_csv(P + path)


def long_means(df, method_col, dataset_col, score):
    g = df.groupby([dataset_col, method_col], sort=False)[score].mean()
    return g.unstack(method_col)


def resample_means(path, method):
    df = read(path)
    first = df.columns[0]
    # melt stacks the resample columns in order, so each dataset's values are summed 0, 1, …, 29
    long = df.melt(id_vars=[first], var_name="resample", value_name="score")
    m = long.groupby(first, sort=False)["score"].mean()
    return m.to_frame(method)


def dl4tsc():
    return long_means(read("dl4tsc_results-ucr-128.csv"), "classifier_name", "dataset_name", "accuracy")


def inception():
    df = read("inceptiontime_results-InceptionTime-128.csv").iloc[:, 1:]
    return long_means(df, "classifier_name", "dataset_name", "accuracy")


def rocket():
    df = read("rocket_results_ucr.csv").set_index("dataset")
    return df[["accuracy_mean"]].rename(columns={"accuracy_mean": "ROCKET"})


def analyse(name, args, table, zero_method="pratt"):
    table = table.dropna()
    x = table.values.astype(float)
    n, k = x.shape
    ranks = np.apply_along_axis(lambda r: stats.rankdata(-r), 1, x)
    r = stats.friedmanchisquare(*[x[:, j] for j in range(k)])
    methods = [str(m) for m in table.columns]
    pairs = []
    for i in range(k):
        for j in range(i + 1, k):
            w = stats.wilcoxon(x[:, i], x[:, j], zero_method=zero_method)
            pairs.append({"a": methods[i], "b": methods[j], "statistic": float(w.statistic), "p": float(w.pvalue)})
    for q, h in zip(pairs, multipletests([q["p"] for q in pairs], method="holm")[1]):
        q["p_holm"] = float(h)
    return {
        "name": name,
        "args": args,
        "n_datasets": n,
        "methods": methods,
        "mean_scores": dict(zip(methods, x.mean(axis=0).tolist())),
        "average_ranks": dict(zip(methods, ranks.mean(axis=0).tolist())),
        "friedman_chi2": float(r.statistic),
        "friedman_p": float(r.pvalue),
        "pairs": pairs,
    }


def main():
    d = dl4tsc()
    analyses = [
        analyse("dl-4-tsc, 8 networks on 128 datasets", [P + "dl4tsc_results-ucr-128.csv"], d),
        analyse(
            "dl-4-tsc + InceptionTime + ROCKET (score named)",
            [P + "dl4tsc_results-ucr-128.csv", P + "inceptiontime_results-InceptionTime-128.csv",
             P + "rocket_results_ucr.csv:accuracy_mean=ROCKET"],
            d.join(inception(), how="inner").join(rocket(), how="inner"),
        ),
    ]
    aeon = ["HC2", "InceptionTime", "ROCKET", "1NN-DTW", "ResNet"]
    t = resample_means(f"{aeon[0]}_accuracy.csv", aeon[0])
    for m in aeon[1:]:
        t = t.join(resample_means(f"{m}_accuracy.csv", m), how="inner")
    analyses.append(analyse("aeon reference results, 5 methods (intersect)",
                            [P + f"{m}_accuracy.csv" for m in aeon] + ["--missing", "intersect"], t))
    mr = resample_means("minirocket_accuracy_ucr109_resamples.csv", "MiniRocket")
    analyses.append(analyse(
        "MiniRocket resamples + ROCKET + InceptionTime (intersect)",
        [P + "minirocket_accuracy_ucr109_resamples.csv=MiniRocket", P + "rocket_results_ucr.csv:accuracy_mean=ROCKET",
         P + "inceptiontime_results-InceptionTime-128.csv", "--missing", "intersect"],
        mr.join(rocket(), how="inner").join(inception(), how="inner"),
    ))
    lstm = read("lstm_fcn_report_table2.csv").set_index("dataset")
    analyses.append(analyse("LSTM-FCN report Table 2 (zero_method wilcox)",
                            [P + "lstm_fcn_report_table2.csv", "--zero-method", "wilcox"], lstm, zero_method="wilcox"))
    out = {
        "generator": "tests/data/stats/make_published_reference.py",
        "versions": {"scipy": scipy.__version__, "numpy": np.__version__, "pandas": pd.__version__,
                     "statsmodels": statsmodels.__version__, "python": sys.version.split()[0]},
        "analyses": analyses,
    }
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
