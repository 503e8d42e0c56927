"""Reference values for tscpipe's MiniRocket and ridge classifier.

Regenerate (from the repository root):
    python3 -m venv /work/venvs/rocket && /work/venvs/rocket/bin/pip install aeon==1.6.0 scikit-learn
    /work/venvs/rocket/bin/python tests/data/rocket/make_reference.py tests/data/rocket

MiniRocket: a NumPy transcription of the authors' deterministic variant (angus924/minirocket,
code/minirocket_dv.py `fit_transform` for TRAIN, code/minirocket.py `transform` for TEST), run in
float32 as the reference does, without numba (numba's `np.quantile` and `fastmath` may round
differently; NumPy's order of operations is the one reproduced). The elementwise operations are
vectorised over series, which changes no rounding.

Ridge: scikit-learn's `make_pipeline(StandardScaler(with_mean=False),
RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))` (aeon's MiniRocketClassifier) on the float64
copy of those features, and on small synthetic matrices (both decompositions).

Writes one JSON file per dataset (`dv_<name>.json`) and `ridge_synthetic.json`.
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.linear_model import RidgeClassifierCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

INDICES = np.array([c for c in __import__("itertools").combinations(range(9), 3)], dtype=np.int32)


def fit_dilations(input_length, num_features, max_dilations_per_kernel):
    num_kernels = 84
    num_features_per_kernel = num_features // num_kernels
    true_max_dilations_per_kernel = min(num_features_per_kernel, max_dilations_per_kernel)
    multiplier = num_features_per_kernel / true_max_dilations_per_kernel
    max_exponent = np.log2((input_length - 1) / (9 - 1))
    dilations, num_features_per_dilation = np.unique(
        np.logspace(0, max_exponent, true_max_dilations_per_kernel, base=2).astype(np.int32), return_counts=True
    )
    num_features_per_dilation = (num_features_per_dilation * multiplier).astype(np.int32)
    remainder = num_features_per_kernel - np.sum(num_features_per_dilation)
    i = 0
    while remainder > 0:
        num_features_per_dilation[i] += 1
        remainder -= 1
        i = (i + 1) % len(num_features_per_dilation)
    return dilations, num_features_per_dilation


def quantiles(n):
    return np.array([(_ * ((np.sqrt(5) + 1) / 2)) % 1 for _ in range(1, n + 1)], dtype=np.float32)


def alpha_gamma(X, dilation):
    """C_alpha (n, L) and C_gamma (9, n, L) for all series X (n, L), the reference's loops."""
    n, input_length = X.shape
    padding = ((9 - 1) * dilation) // 2
    A = -X
    G = X + X + X
    C_alpha = np.zeros((n, input_length), dtype=np.float32)
    C_alpha[:] = A
    C_gamma = np.zeros((9, n, input_length), dtype=np.float32)
    C_gamma[9 // 2] = G
    start = dilation
    end = input_length - padding
    for gamma_index in range(9 // 2):
        C_alpha[:, -end:] = C_alpha[:, -end:] + A[:, :end]
        C_gamma[gamma_index, :, -end:] = G[:, :end]
        end += dilation
    for gamma_index in range(9 // 2 + 1, 9):
        C_alpha[:, :-start] = C_alpha[:, :-start] + A[:, start:]
        C_gamma[gamma_index, :, :-start] = G[:, start:]
        start += dilation
    return C_alpha, C_gamma


def ppv_features(C, biases, padding, padded):
    """(n, len(biases)): mean of C > b over the full output or without the edges."""
    if not padded:
        C = C[:, padding:-padding]
    out = np.zeros((C.shape[0], len(biases)), dtype=np.float32)
    for j, b in enumerate(biases):
        out[:, j] = (C > b).astype(np.float32).mean(axis=1, dtype=np.float32)
    return out


def fit_transform_dv(X, num_features=10_000, max_dilations_per_kernel=32):
    n, input_length = X.shape
    dilations, num_features_per_dilation = fit_dilations(input_length, num_features, max_dilations_per_kernel)
    q = quantiles(84 * np.sum(num_features_per_dilation))
    total = 84 * int(np.sum(num_features_per_dilation))
    biases = np.zeros(total, dtype=np.float32)
    features = np.zeros((n, total), dtype=np.float32)
    f0 = 0
    for di, dilation in enumerate(dilations):
        padding = ((9 - 1) * dilation) // 2
        nf = num_features_per_dilation[di]
        C_alpha, C_gamma = alpha_gamma(X, dilation)
        for k in range(84):
            i0, i1, i2 = INDICES[k]
            C = C_alpha + C_gamma[i0] + C_gamma[i1] + C_gamma[i2]
            biases[f0:f0 + nf] = np.quantile(C, q[f0:f0 + nf])
            features[:, f0:f0 + nf] = ppv_features(C, biases[f0:f0 + nf], padding, (di % 2 + k) % 2 == 0)
            f0 += nf
    return (dilations, num_features_per_dilation, biases), features


def transform(X, parameters):
    dilations, num_features_per_dilation, biases = parameters
    n, _ = X.shape
    features = np.zeros((n, len(biases)), dtype=np.float32)
    f0 = 0
    for di, dilation in enumerate(dilations):
        padding = ((9 - 1) * dilation) // 2
        nf = num_features_per_dilation[di]
        C_alpha, C_gamma = alpha_gamma(X, dilation)
        for k in range(84):
            i0, i1, i2 = INDICES[k]
            C = C_alpha + C_gamma[i0] + C_gamma[i1] + C_gamma[i2]
            features[:, f0:f0 + nf] = ppv_features(C, biases[f0:f0 + nf], padding, (di % 2 + k) % 2 == 0)
            f0 += nf
    return features


def load_tsv(path):
    rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
    labels = [float(r[0]) for r in rows]
    X = np.array([[float(v) for v in r[1:]] for r in rows], dtype=np.float64)
    return X, labels


def f32_list(a):
    # Shortest decimal that reads back as the same float32.
    return [float(str(np.float32(v))) for v in np.asarray(a, dtype=np.float32).ravel()]


def ridge_reference(Xtr, ytr, Xte):
    pipe = make_pipeline(StandardScaler(with_mean=False), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
    pipe.fit(Xtr, ytr)
    r = pipe[-1]
    return {
        "alpha": float(r.alpha_),
        "alpha_index": int(np.argmax(np.logspace(-3, 3, 10) == r.alpha_)),
        "best_score": float(r.best_score_),
        "scale": [float(v) for v in pipe[0].scale_],
        "coef": np.atleast_2d(r.coef_).tolist(),
        "intercept": np.atleast_1d(r.intercept_).tolist(),
        "predicted": [int(v) for v in pipe.predict(Xte)],
    }


def dataset(name, out_dir):
    base = os.path.join("data", name)
    Xtr, ltr = load_tsv(os.path.join(base, f"{name}_TRAIN.tsv"))
    Xte, lte = load_tsv(os.path.join(base, f"{name}_TEST.tsv"))
    classes = sorted(set(ltr))
    ytr = np.array([classes.index(v) for v in ltr])
    yte = np.array([classes.index(v) for v in lte])
    params, Ftr = fit_transform_dv(Xtr.astype(np.float32))
    Fte = transform(Xte.astype(np.float32), params)
    dilations, per_dilation, biases = params
    ridge = ridge_reference(Ftr.astype(np.float64), ytr, Fte.astype(np.float64))
    rec = {
        "dataset": name,
        "num_features": 10_000,
        "dilations": [int(d) for d in dilations],
        "features_per_dilation": [int(c) for c in per_dilation],
        "biases": f32_list(biases),
        # Every feature of the first series of each split; the exact sum of every row.
        "train_first": f32_list(Ftr[0]),
        "test_first": f32_list(Fte[0]),
        "train_row_sums": [float(np.sum(r, dtype=np.float64)) for r in Ftr],
        "test_row_sums": [float(np.sum(r, dtype=np.float64)) for r in Fte],
        "ridge": ridge,
        "test_accuracy": float(np.mean(np.array(ridge["predicted"]) == yte)),
    }
    with open(os.path.join(out_dir, f"dv_{name}.json"), "w") as f:
        json.dump(rec, f, separators=(",", ":"))
    print(name, "alpha", ridge["alpha"], "acc", rec["test_accuracy"], file=sys.stderr)


def synthetic(out_dir):
    rng = np.random.default_rng(17)
    cases = []
    for n, p, k, n_test in [(40, 15, 3, 10), (25, 60, 2, 8), (30, 30, 4, 6)]:
        centres = rng.normal(size=(k, p))
        y = np.arange(n) % k
        X = centres[y] * 0.7 + rng.normal(size=(n, p))
        Xt = rng.normal(size=(n_test, p))
        cases.append({"n": n, "p": p, "x": X.ravel().tolist(), "y": y.tolist(), "x_test": Xt.ravel().tolist(),
                      **ridge_reference(X, y, Xt)})
    with open(os.path.join(out_dir, "ridge_synthetic.json"), "w") as f:
        json.dump({"sklearn": sklearn.__version__, "numpy": np.__version__, "cases": cases}, f)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/data/rocket"
    synthetic(out_dir)
    for name in ["GunPoint", "ItalyPowerDemand", "Coffee", "ArrowHead"]:
        dataset(name, out_dir)


if __name__ == "__main__":
    main()
