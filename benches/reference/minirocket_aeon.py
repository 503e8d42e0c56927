"""aeon's numba MiniRocket on the same data and cores, for `cargo bench --bench rocket -- --aeon PYTHON`.

Install (kept out of the default test path):
    python3 -m venv /work/venvs/rocket && /work/venvs/rocket/bin/pip install aeon==1.6.0 scikit-learn

Reads the series the benchmark wrote (raw little-endian float64, shape given on the command
line), times the transform's fit + transform of TRAIN and TEST (after one untimed run on a few
series so numba's compilation is not counted), and, with --classify, the whole
MiniRocketClassifier fit + predict. Prints `fit_transform_ms X` (and `classify_ms Y`, `accuracy Z`).
"""
import argparse
import os
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--shape", required=True, help="n_train,n_test,channels,length")
    ap.add_argument("--features", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--classify", action="store_true")
    a = ap.parse_args()
    n_train, n_test, c, length = (int(v) for v in a.shape.split(","))
    xtr = np.fromfile(os.path.join(a.dir, "train.f64"), dtype="<f8").reshape(n_train, c, length)
    xte = np.fromfile(os.path.join(a.dir, "test.f64"), dtype="<f8").reshape(n_test, c, length)
    from aeon.classification.convolution_based import MiniRocketClassifier
    from aeon.transformations.collection.convolution_based import MiniRocket

    def transform_once(xa, xb):
        t = MiniRocket(n_kernels=a.features, n_jobs=a.threads, random_state=0)
        t.fit(xa)
        t.transform(xa)
        if len(xb):
            t.transform(xb)

    transform_once(xtr[:4], xte[:4])  # numba compilation
    s = time.perf_counter()
    transform_once(xtr, xte)
    print(f"fit_transform_ms {(time.perf_counter() - s) * 1e3:.3f}")
    if a.classify:
        ytr = np.fromfile(os.path.join(a.dir, "train_labels.i64"), dtype="<i8")
        yte = np.fromfile(os.path.join(a.dir, "test_labels.i64"), dtype="<i8")
        clf = MiniRocketClassifier(n_kernels=a.features, n_jobs=a.threads, random_state=0)
        s = time.perf_counter()
        clf.fit(xtr, ytr)
        pred = clf.predict(xte)
        print(f"classify_ms {(time.perf_counter() - s) * 1e3:.3f}")
        print(f"accuracy {np.mean(pred == yte):.6f}")


if __name__ == "__main__":
    main()
