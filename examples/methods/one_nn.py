#!/usr/bin/env python3
"""1-nearest-neighbour with Euclidean distance, in plain Python.

    one_nn.py TRAIN.ts TEST.ts OUT_DIR

The same classifier as tscpipe's `classify` with `distance = "euclidean"`: ties go to the
first TRAIN series, as there. The test suite runs both on the same resample and compares their
predictions one by one, which shows that the `.ts` files tscpipe writes carry exactly its data.
"""

import sys

from tsclib import read_ts, squared_distance, write_predictions


def main(argv):
    train, test, out = argv
    x_train, y_train = read_ts(train)
    x_test, _ = read_ts(test)
    predictions = []
    for s in x_test:
        d = [squared_distance(s, t) for t in x_train]
        predictions.append(y_train[d.index(min(d))])
    write_predictions(out, predictions)


if __name__ == "__main__":
    main(sys.argv[1:])
