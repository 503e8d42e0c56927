"""Reference resamples for tscpipe's `resample` stage, computed with aeon 1.6.0.

Regenerate (from the repository root):
    python3 -m venv /work/venvs/aeon && /work/venvs/aeon/bin/pip install aeon==1.6.0
    /work/venvs/aeon/bin/python tests/data/resample/make_reference.py

It (re)writes `tests/data/resample/VarLenToy/VarLenToy_{TRAIN,TEST}.ts` (a small deterministic
variable-length dataset whose labels `1`, `2`, `10` sort differently as strings and as numbers)
and `tests/data/resample/reference.json`.

For every bundled dataset and every seed 0..29 the JSON holds what
`aeon.benchmarking.resampling.stratified_resample_data(X_train, y_train, X_test, y_test,
random_state=seed)` returns, as indices into the concatenation TRAIN then TEST: `X` is replaced by
each case's own index, so the order aeon returns *is* the index list. The real data is resampled
too and checked to come out in that same order. Seed 0 is aeon's `RandomState(0)` shuffle;
tsml-eval's experiments do not resample for resample id 0 (they keep the archive's split), which
the Rust side tests separately. Labels are strings as written in the files (the .ts loader's
output; Coffee's .tsv labels, which pandas reads as integers, are turned back into strings), so
the class order is `np.unique` over strings.
"""
import json
import math
import os
import sys

import aeon
import numpy as np
from aeon.benchmarking.resampling import stratified_resample_data
from aeon.datasets import load_from_ts_file, load_from_tsv_file

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SEEDS = range(30)


def write_varlen_toy():
    """Univariate, unequal lengths (5..12), labels 1/2/10 interleaved in file order."""
    train = ["2", "1", "10", "2", "1", "2", "10", "1", "2"]
    test = ["10", "1", "2", "10", "1", "10", "2", "1", "10", "2", "1", "10"]
    folder = os.path.join(HERE, "VarLenToy")
    os.makedirs(folder, exist_ok=True)
    for split, labels, offset in (("TRAIN", train, 0), ("TEST", test, 100)):
        lines = [
            "# Deterministic toy data for the resample reference (make_reference.py).",
            "@problemName VarLenToy",
            "@timeStamps false",
            "@missing false",
            "@univariate true",
            "@equalLength false",
            "@classLabel true 1 2 10",
            "@data",
        ]
        for i, label in enumerate(labels):
            n = 5 + (i * 3 + offset) % 8
            values = [f"{math.sin(0.7 * t + i + offset) * 10:.3f}" for t in range(n)]
            lines.append(",".join(values) + ":" + label)
        with open(os.path.join(folder, f"VarLenToy_{split}.ts"), "w", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
    return folder


def load(name, folder):
    ts = os.path.join(folder, f"{name}_TRAIN.ts")
    if os.path.exists(ts):
        X_train, y_train = load_from_ts_file(ts)
        X_test, y_test = load_from_ts_file(os.path.join(folder, f"{name}_TEST.ts"))
    else:
        X_train, y_train = load_from_tsv_file(os.path.join(folder, f"{name}_TRAIN.tsv"))
        X_test, y_test = load_from_tsv_file(os.path.join(folder, f"{name}_TEST.tsv"))
    return X_train, np.asarray(y_train).astype(str), X_test, np.asarray(y_test).astype(str)


def same_cases(a, b):
    if isinstance(a, list):
        return len(a) == len(b) and all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b))
    return np.array_equal(a, b, equal_nan=True)


def reference(name, folder):
    X_train, y_train, X_test, y_test = load(name, folder)
    n_train, n_test = len(y_train), len(y_test)
    is_list = isinstance(X_train, list)
    all_X = X_train + X_test if is_list else np.concatenate([X_train, X_test])
    all_y = np.concatenate([y_train, y_test])
    idx = np.arange(n_train + n_test).reshape(-1, 1, 1)
    out = []
    for seed in SEEDS:
        i_train, i_y_train, i_test, i_y_test = stratified_resample_data(
            idx[:n_train], y_train, idx[n_train:], y_test, random_state=seed
        )
        train = [int(v) for v in i_train.ravel()]
        test = [int(v) for v in i_test.ravel()]
        assert sorted(train + test) == list(range(n_train + n_test))
        assert list(i_y_train) == list(all_y[train]) and list(i_y_test) == list(all_y[test])
        # The real series come out in the same order as the indices.
        r_train, r_y_train, r_test, r_y_test = stratified_resample_data(
            X_train, y_train, X_test, y_test, random_state=seed
        )
        pick = (lambda ix: [all_X[i] for i in ix]) if is_list else (lambda ix: all_X[ix])
        assert same_cases(r_train, pick(train)) and same_cases(r_test, pick(test)), (name, seed)
        assert list(r_y_train) == list(i_y_train) and list(r_y_test) == list(i_y_test)
        out.append({"seed": seed, "train": train, "test": test})
    return {
        "n_train": n_train,
        "n_test": n_test,
        "classes": [str(c) for c in np.unique(all_y)],
        "resamples": out,
    }


def main():
    toy = write_varlen_toy()
    datasets = {
        "GunPoint": os.path.join(REPO, "data", "GunPoint"),
        "ItalyPowerDemand": os.path.join(REPO, "data", "ItalyPowerDemand"),
        "ArrowHead": os.path.join(REPO, "data", "ArrowHead"),
        "Coffee": os.path.join(REPO, "data", "Coffee"),
        "BasicMotions": os.path.join(REPO, "data", "BasicMotions"),
        "VarLenToy": toy,
    }
    doc = {
        "generator": "tests/data/resample/make_reference.py",
        "aeon": aeon.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "datasets": {name: reference(name, folder) for name, folder in datasets.items()},
    }
    path = os.path.join(HERE, "reference.json")
    with open(path, "w", newline="\n") as f:
        # One resample per line keeps the file small and diffable.
        f.write("{\n")
        f.write(f'  "generator": {json.dumps(doc["generator"])},\n')
        f.write(f'  "aeon": {json.dumps(doc["aeon"])},\n')
        f.write(f'  "numpy": {json.dumps(doc["numpy"])},\n')
        f.write(f'  "python": {json.dumps(doc["python"])},\n')
        f.write('  "datasets": {\n')
        names = list(doc["datasets"])
        for k, name in enumerate(names):
            d = doc["datasets"][name]
            f.write(f"    {json.dumps(name)}: {{\n")
            f.write(f'      "n_train": {d["n_train"]}, "n_test": {d["n_test"]},\n')
            f.write(f'      "classes": {json.dumps(d["classes"])},\n')
            f.write('      "resamples": [\n')
            for j, r in enumerate(d["resamples"]):
                sep = "," if j + 1 < len(d["resamples"]) else ""
                f.write(f"        {json.dumps(r, separators=(',', ':'))}{sep}\n")
            f.write("      ]\n")
            f.write("    }" + ("," if k + 1 < len(names) else "") + "\n")
        f.write("  }\n}\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
