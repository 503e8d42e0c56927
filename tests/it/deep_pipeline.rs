//! Deep-model stages end to end on real bundled data (GunPoint, a tiny ALSTM-FCN, a few epochs):
//! same pipeline and seed → same weights digest; editing fine-tuning never retrains phase 1; the
//! report draws the training curves and where the attention model looks.

use crate::common::{Project, published, ran};

const PIPELINE: &str = r#"
[pipeline]
name = "deep"
main = "table"

[stages.load]
kind = "load"
dataset = "GunPoint"

[stages.norm]
kind = "normalise"
inputs = { data = "load" }
method = "per-series"

[stages.train]
kind = "train"
inputs = { data = "norm" }
model = { model = "alstm_fcn", cells = 4, filters = [8, 16, 8] }
epochs = 3
batch_size = 16
checkpoint_every = 1

[stages.finetune]
kind = "finetune"
inputs = { model = "train", data = "norm" }
iterations = 2
epochs = 1

[stages.predict]
kind = "predict"
inputs = { model = "finetune", data = "norm" }
label = "ALSTM-FCN-tiny"

[stages.eval]
kind = "evaluate"
inputs = { predictions = "predict" }

[stages.table]
kind = "table"
inputs = { results = ["eval"] }

[stages.report]
kind = "report"
inputs = { tables = "table", trainings = ["train", "finetune"], evaluations = ["eval"], attention = "predict" }
"#;

fn digest_of(out: &tscpipe::app::RunOutput, id: &str, file: &str) -> String {
    let r = out.summary.results.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no instance {id}"));
    r.manifest.as_ref().expect("completed").outputs[file].digest.clone()
}

#[test]
fn training_is_deterministic_and_finetune_edits_do_not_retrain() {
    let a = Project::new();
    let pa = a.write("deep.toml", PIPELINE);
    let first = a.run(&pa);
    let weights = digest_of(&first, "train", "model.mpk");
    assert_eq!(digest_of(&first, "train", "model.safetensors").len(), 64);

    // Another cache, same pipeline and seed: bit-identical weights and predictions.
    let b = Project::new();
    let again = b.run(&b.write("deep.toml", PIPELINE));
    assert_eq!(digest_of(&again, "train", "model.mpk"), weights);
    assert_eq!(digest_of(&again, "finetune", "model.mpk"), digest_of(&first, "finetune", "model.mpk"));
    assert_eq!(digest_of(&again, "predict", "predictions.json"), digest_of(&first, "predict", "predictions.json"));

    // Editing fine-tuning reruns fine-tuning and what follows, never phase-1 training.
    std::fs::write(&pa, PIPELINE.replace("iterations = 2", "iterations = 3")).unwrap();
    let edited = a.run(&pa);
    let r = ran(&edited);
    assert!(r.contains(&"finetune".to_string()), "{r:?}");
    assert!(!r.contains(&"train".to_string()) && !r.contains(&"load".to_string()), "{r:?}");
    assert_eq!(digest_of(&edited, "train", "model.mpk"), weights);

    // The report has the curves, the confusion matrix and the attention figure.
    let html = published(&edited, "report/report.html");
    assert!(
        html.contains("Training curves") && html.contains("train: loss") && html.contains("finetune: learning rate")
    );
    assert!(html.contains("Where the attention model looks"));
    assert!(html.contains("ALSTM-FCN-tiny on GunPoint: attention per channel"));
    assert_eq!(html.matches("true class").count(), 1);
}
