"""The 30 stratified resamples of the bundled univariate datasets, as aeon 1.6 draws them
(`aeon.benchmarking.resampling.stratified_resample_data_indices(y_train, y_test, random_state=k)`;
resample 0 is the original split, as in tsml-eval), for the opt-in accuracy check in
tests/it/rocket.rs (`TSCPIPE_ROCKET_RESAMPLES=1`).

Regenerate (from the repository root):
    python3 -m venv /work/venvs/rocket && /work/venvs/rocket/bin/pip install aeon==1.6.0 scikit-learn
    /work/venvs/rocket/bin/python tests/data/rocket/make_resamples.py > tests/data/rocket/resamples.json

Indices point into TRAIN followed by TEST, in file order.
"""
import json
import os

import aeon
import numpy as np
from aeon.benchmarking.resampling import stratified_resample_data_indices


def labels(path):
    return np.array([float(line.split("\t", 1)[0]) for line in open(path) if line.strip()])


out = {"aeon": aeon.__version__, "datasets": {}}
for name in ["GunPoint", "ItalyPowerDemand", "Coffee", "ArrowHead"]:
    base = os.path.join("data", name)
    ytr = labels(os.path.join(base, f"{name}_TRAIN.tsv"))
    yte = labels(os.path.join(base, f"{name}_TEST.tsv"))
    res = [{"train": list(range(len(ytr))), "test": list(range(len(ytr), len(ytr) + len(yte)))}]
    for k in range(1, 30):
        tr, te = stratified_resample_data_indices(ytr, yte, random_state=k)
        res.append({"train": [int(i) for i in tr], "test": [int(i) for i in te]})
    out["datasets"][name] = res
print(json.dumps(out, separators=(",", ":")))
