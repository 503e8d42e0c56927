"""Parameter counts of aeon's InceptionTime, H-InceptionTime and LITE networks (Keras), the
reference `src/models/zoo_tests.rs` checks tscpipe's networks against.

Regenerate (from the repository root; TensorFlow is kept out of the test path):
    python3 -m venv /work/venvs/tf && /work/venvs/tf/bin/pip install "aeon==1.6.0" tensorflow-cpu
    /work/venvs/tf/bin/python tests/data/deep/make_param_counts.py > tests/data/deep/param_counts.json

Shapes: GunPoint (1 channel, length 150, 2 classes) and BasicMotions (6 channels, length 100,
4 classes), the bundled univariate and multivariate datasets the test trains on. Each network
gets aeon's classifier head (a softmax dense layer on its GAP output). Counted: Keras'
trainable and non-trainable weights (BatchNorm running statistics and the hand-crafted filters
are non-trainable).
"""
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import aeon  # noqa: E402
import tensorflow as tf  # noqa: E402
from aeon.networks import InceptionNetwork, LITENetwork  # noqa: E402


def counts(network, shape, classes):
    inp, gap = network.build_network(shape)
    out = tf.keras.layers.Dense(classes, activation="softmax")(gap)
    model = tf.keras.models.Model(inputs=inp, outputs=out)
    trainable = int(sum(tf.keras.backend.count_params(w) for w in model.trainable_weights))
    frozen = int(sum(tf.keras.backend.count_params(w) for w in model.non_trainable_weights))
    return {"trainable": trainable, "non_trainable": frozen}


def main():
    shapes = {"GunPoint": ((150, 1), 2), "BasicMotions": ((100, 6), 4)}
    nets = {
        "inception_time": lambda: InceptionNetwork(),
        "h_inception_time": lambda: InceptionNetwork(use_custom_filters=True),
        "lite": lambda: LITENetwork(),
    }
    out = {
        "generator": f"aeon {aeon.__version__}, tensorflow {tf.__version__}",
        "counts": {
            name: {ds: counts(make(), shape, k) for ds, (shape, k) in shapes.items()} for name, make in nets.items()
        },
    }
    print(json.dumps(out, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
