"""aeon 1.6's MultiRocketHydraClassifier over the 30 resamples of tests/data/rocket/resamples.json
(seed = resample id), mean test accuracy per dataset: the stand-in for MR-Hydra's published
means, which no reachable results file holds (docs/models.md).

Run (from the repository root; aeon's Hydra needs PyTorch):
    python3 -m venv /work/venvs/aeon && /work/venvs/aeon/bin/pip install aeon==1.6.0 torch
    /work/venvs/aeon/bin/python tests/data/rocket/mr_hydra_aeon_means.py
"""
import json
import os

import numpy as np
import torch
from aeon.classification.convolution_based import MultiRocketHydraClassifier

torch.set_num_threads(1)


def load(name, split):
    rows = [line.rstrip("\n").split("\t") for line in open(os.path.join("data", name, f"{name}_{split}.tsv")) if line.strip()]
    return np.array([[float(v) for v in r[1:]] for r in rows])[:, None, :], np.array([r[0] for r in rows])


res = json.load(open("tests/data/rocket/resamples.json"))
for name in ["GunPoint", "ItalyPowerDemand", "Coffee", "ArrowHead"]:
    (xa, ya), (xb, yb) = load(name, "TRAIN"), load(name, "TEST")
    X, y = np.concatenate([xa, xb]), np.concatenate([ya, yb])
    accs = []
    for k, r in enumerate(res["datasets"][name]):
        clf = MultiRocketHydraClassifier(random_state=k, n_jobs=1)
        clf.fit(X[r["train"]], y[r["train"]])
        accs.append(float(np.mean(clf.predict(X[r["test"]]) == y[r["test"]])))
    print(f"{name} {np.mean(accs):.4f}", flush=True)
