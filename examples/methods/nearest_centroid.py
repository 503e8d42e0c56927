#!/usr/bin/env python3
"""Nearest-centroid classifier, a researcher's own method in plain Python.

    nearest_centroid.py TRAIN.ts TEST.ts OUT_DIR [--seed N]

Each class is the mean of its TRAIN series; a TEST series gets the class of the nearest mean
(Euclidean distance over every channel), with probabilities from the distances. Writes
OUT_DIR/predictions.csv as tscpipe's `command` stage reads it (`produces = "predictions"`).
The seed is accepted, as a randomised method would take it, and unused.
"""

import argparse
import sys

from tsclib import read_ts, softmax_of_negative, squared_distance, write_predictions


def centroids(series, labels):
    classes = sorted(set(labels))
    means = []
    for c in classes:
        members = [s for s, l in zip(series, labels) if l == c]
        means.append([[sum(vals) / len(members) for vals in zip(*chans)] for chans in zip(*members)])
    return classes, means


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    x_train, y_train = read_ts(args.train)
    x_test, _ = read_ts(args.test)
    classes, means = centroids(x_train, y_train)
    predictions, probabilities = [], []
    for s in x_test:
        d = [squared_distance(s, m) ** 0.5 for m in means]
        probabilities.append(softmax_of_negative(d))
        predictions.append(classes[d.index(min(d))])
    write_predictions(args.out, predictions, probabilities, classes)


if __name__ == "__main__":
    main(sys.argv[1:])
