"""aeon 1.6's ROCKET-family transforms and classifiers on the same data and cores, for
`cargo bench --bench rocket -- --aeon PYTHON`.

Install (kept out of the default test path; Hydra, MultiRocket-Hydra and QUANT need PyTorch):
    python3 -m venv /work/venvs/aeon && /work/venvs/aeon/bin/pip install aeon==1.6.0 torch

Reads the series the benchmark wrote (raw little-endian float64, shape on the command line),
times fit + transform of TRAIN and TEST (after one untimed run on a few series, so numba's
compilation is not counted), and, with --classify, the method's aeon classifier fit + predict.
Prints `fit_transform_ms X`, `peak_mb Y` (this process's peak resident memory) and, with
--classify, `classify_ms Z` and `accuracy A`.
"""
import argparse
import os
import resource
import time

import numpy as np


def transformers(method, threads, seed):
    from aeon.transformations.collection.convolution_based import (
        HydraTransformer,
        MiniRocket,
        MultiRocket,
        Rocket,
    )
    from aeon.transformations.collection.interval_based import QUANTTransformer

    if method == "minirocket":
        return [MiniRocket(n_jobs=threads, random_state=seed)]
    if method == "multirocket":
        return [MultiRocket(n_jobs=threads, random_state=seed)]
    if method == "rocket":
        return [Rocket(n_jobs=threads, random_state=seed)]
    if method == "hydra":
        return [HydraTransformer(n_jobs=threads, random_state=seed)]
    if method == "mr_hydra":
        return [HydraTransformer(n_jobs=threads, random_state=seed), MultiRocket(n_jobs=threads, random_state=seed)]
    if method == "quant":
        return [QUANTTransformer()]
    raise ValueError(method)


def classifier(method, threads, seed):
    from aeon.classification.convolution_based import (
        HydraClassifier,
        MiniRocketClassifier,
        MultiRocketClassifier,
        MultiRocketHydraClassifier,
        RocketClassifier,
    )
    from aeon.classification.interval_based import QUANTClassifier

    if method == "quant":
        # aeon's default forest runs on one core; the authors' code (and this) uses all of them.
        from sklearn.ensemble import ExtraTreesClassifier

        forest = ExtraTreesClassifier(
            n_estimators=200, max_features=0.1, criterion="entropy", n_jobs=threads, random_state=seed
        )
        return QUANTClassifier(estimator=forest, random_state=seed)
    cls = {
        "minirocket": MiniRocketClassifier,
        "multirocket": MultiRocketClassifier,
        "rocket": RocketClassifier,
        "hydra": HydraClassifier,
        "mr_hydra": MultiRocketHydraClassifier,
    }[method]
    return cls(n_jobs=threads, random_state=seed)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--shape", required=True, help="n_train,n_test,channels,length")
    ap.add_argument("--method", default="minirocket")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--classify", action="store_true")
    a = ap.parse_args()
    n_train, n_test, c, length = (int(v) for v in a.shape.split(","))
    xtr = np.fromfile(os.path.join(a.dir, "train.f64"), dtype="<f8").reshape(n_train, c, length)
    xte = np.fromfile(os.path.join(a.dir, "test.f64"), dtype="<f8").reshape(n_test, c, length)
    try:
        import torch

        torch.set_num_threads(a.threads)
    except ImportError:
        pass

    def transform_once(xa, xb):
        for t in transformers(a.method, a.threads, 0):
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
        clf = classifier(a.method, a.threads, 0)
        s = time.perf_counter()
        clf.fit(xtr, ytr)
        pred = clf.predict(xte)
        print(f"classify_ms {(time.perf_counter() - s) * 1e3:.3f}")
        print(f"accuracy {np.mean(pred == yte):.6f}")
    print(f"peak_mb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")


if __name__ == "__main__":
    main()
