"""tsml-eval's own MiniRocket results for the `command` stage's cross-check.

Venv (tsml-eval 0.6.0 brings aeon 1.1.0; it cannot share a venv with aeon 1.6.0):
    python3 -m venv /tmp/venv-tsml && /tmp/venv-tsml/bin/pip install tsml-eval==0.6.0
    /tmp/venv-tsml/bin/python tests/data/command/make_tsml_reference.py data tests/data/command/tsml

Runs tsml-eval's `load_and_run_classification_experiment` with aeon's MiniRocketClassifier
(random_state = the resample id, as tsml-eval seeds its classifiers) on GunPoint and ArrowHead,
resamples 0-4, reading the bundled archive files; it writes
<out>/MiniRocket/Predictions/<Dataset>/testResample<k>.csv. `tests/it/command_stage.rs`
(`aeon_cross_check`, opt-in with TSCPIPE_TEST_AEON=1) runs the same classifier with aeon 1.6.0
through examples/methods/aeon_classifier.py as a `command` stage on tscpipe's resamples and
compares the predictions file for file.
"""

import sys

from aeon.classification.convolution_based import MiniRocketClassifier
from tsml_eval.experiments import load_and_run_classification_experiment


def main(problem_path, out):
    for dataset in ["GunPoint", "ArrowHead"]:
        for k in range(5):
            load_and_run_classification_experiment(
                problem_path,
                out,
                dataset,
                MiniRocketClassifier(random_state=k),
                classifier_name="MiniRocket",
                resample_id=k,
                overwrite=True,
            )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
