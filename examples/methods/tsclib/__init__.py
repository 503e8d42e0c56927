"""Reading the files tscpipe writes for a `command` stage, and writing what it reads back.

Standard library only, so the example methods run with any Python 3.8+ and no environment.
"""

import csv
import math
import os


def read_ts(path):
    """Reads an aeon/sktime `.ts` file: returns (series, labels), each series a list of channels,
    each channel a list of floats (`?` is NaN)."""
    series, labels, in_data = [], [], False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                if line.lower() == "@data":
                    in_data = True
                continue
            *channels, label = line.split(":")
            series.append([[float("nan") if v == "?" else float(v) for v in c.split(",")] for c in channels])
            labels.append(label)
    return series, labels


def write_predictions(out_dir, predictions, probabilities=None, classes=None):
    """Writes `predictions.csv`: a `prediction` column and, given them, one probability column
    per class label."""
    with open(os.path.join(out_dir, "predictions.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["prediction"] + (list(classes) if probabilities is not None else []))
        for i, p in enumerate(predictions):
            w.writerow([p] + ([repr(v) for v in probabilities[i]] if probabilities is not None else []))


def squared_distance(a, b):
    """Squared Euclidean distance between two series of the same shape (channels summed)."""
    return sum((x - y) ** 2 for ca, cb in zip(a, b) for x, y in zip(ca, cb))


def softmax_of_negative(distances):
    """Class probabilities from distances: the nearest gets the most, none underflows."""
    lo = min(distances)
    w = [math.exp(-(d - lo)) for d in distances]
    s = sum(w)
    return [x / s for x in w]
