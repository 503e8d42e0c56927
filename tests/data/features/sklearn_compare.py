"""scikit-learn on the features tscpipe computed: a cross-check of the classifiers (not a test).

After `cargo run -- run pipelines/classic.toml`:
    .venv/bin/pip install scikit-learn        # 1.9.1 was used
    .venv/bin/python tests/data/features/sklearn_compare.py results/classic/features

Reads every `features.csv` below the folder (split,label,features…), standardises on TRAIN and
prints TEST accuracy of SVC(kernel="linear", C=1), SVC(kernel="rbf", C=1, gamma="scale") and
RandomForestClassifier(n_estimators=50, random_state=0) per dataset.
"""
import csv
import sys
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

for path in sorted(Path(sys.argv[1]).rglob("features.csv")):
    rows = list(csv.reader(path.open()))[1:]
    split = np.array([r[0] for r in rows])
    y = np.array([r[1] for r in rows])
    x = np.array([[float(v) for v in r[2:]] for r in rows])
    tr, te = split == "train", split == "test"
    sc = StandardScaler().fit(x[tr])
    xtr, xte = sc.transform(x[tr]), sc.transform(x[te])
    accs = []
    for m in [SVC(kernel="linear", C=1.0), SVC(kernel="rbf", C=1.0, gamma="scale"),
              RandomForestClassifier(n_estimators=50, random_state=0)]:
        accs.append((m.fit(xtr, y[tr]).predict(xte) == y[te]).mean())
    print(f"{path.parent.name}: linear {accs[0]:.4f}  rbf {accs[1]:.4f}  rf {accs[2]:.4f}")
