//! `select`: a fan-in that picks the best of a sweep (e.g. the `cells` of LSTM-FCN) per dataset
//! and model by a declared criterion, and records what was chosen and why.

use serde::Serialize;

use super::artifact::{read_record, write_json};
use super::kind::{StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};
use crate::metrics::record::EvalRecord;

pub struct Select;

const CRITERIA: &[&str] = &["test_accuracy", "selection_loss"];

#[derive(Serialize)]
struct Candidate<'a> {
    from: &'a str,
    method: &'a str,
    accuracy: f64,
    selection_loss: Option<f64>,
}

#[derive(Serialize)]
struct Selection<'a> {
    criterion: &'a str,
    chosen: &'a str,
    why: String,
    candidates: Vec<Candidate<'a>>,
}

crate::stage_params! {
    /// Parameters of `select`.
    pub struct SelectParams {
        /// test_accuracy (what the paper did; optimistic) or selection_loss (the monitored loss of training)
        pub criterion: String [Enum(CRITERIA) = "test_accuracy"],
        /// the label of the selected row in results tables
        pub method: String [Str],
    }
}

impl TypedStage for Select {
    type Params = SelectParams;
    fn resources(&self, _: &SelectParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::SHORT
    }
    fn name(&self) -> &'static str {
        "select"
    }
    fn version(&self) -> u32 {
        // 2: `why` says when the criterion could not tell candidates apart.
        2
    }
    fn about(&self) -> &'static str {
        "Picks the best of a sweep by test accuracy (the paper's choice, labelled) or by the selection loss"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "results", required: true, gather: true, doc: "evaluate stages of the sweep" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file("metrics.json", "the chosen evaluation, relabelled"),
            OutputSpec::file("selection.json", "every candidate, the criterion and the choice"),
        ]
    }
    fn run(&self, ctx: &StageContext<'_>, p: &SelectParams) -> Result<(), StageError> {
        let criterion = p.criterion.as_str();
        let mut recs: Vec<(String, EvalRecord)> = Vec::new();
        for a in ctx.gathered("results") {
            recs.push((a.from.clone(), read_record(a)?));
        }
        if recs.is_empty() {
            return Err(StageError::failed("nothing to select from"));
        }
        if let Some((from, r)) = recs.iter().find(|(_, r)| r.dataset != recs[0].1.dataset) {
            return Err(StageError::failed(format!(
                "select compares one dataset at a time, but {from} is on {} and {} on {}: gather `over` the sweep axis only",
                r.dataset, recs[0].0, recs[0].1.dataset
            )));
        }
        // Best first; ties go to the lower selection loss, then to the earlier candidate.
        let key = |r: &EvalRecord| -> (i64, f64) {
            let loss = r.selection_loss.unwrap_or(f64::INFINITY);
            match criterion {
                "selection_loss" => (0, loss),
                _ => (-(r.correct as i64), loss),
            }
        };
        if criterion == "selection_loss" && recs.iter().any(|(_, r)| r.selection_loss.is_none()) {
            return Err(StageError::failed(
                "criterion selection_loss needs deep-model predictions (they carry the loss)",
            ));
        }
        let best = (0..recs.len())
            .min_by(|&a, &b| {
                key(&recs[a].1).partial_cmp(&key(&recs[b].1)).unwrap_or(std::cmp::Ordering::Equal).then(a.cmp(&b))
            })
            .unwrap_or(0);
        let (from, chosen) = &recs[best];
        let records: Vec<&EvalRecord> = recs.iter().map(|(_, r)| r).collect();
        let why = explain(criterion, &records, best);
        let mut out = chosen.clone();
        out.method = p.method.clone();
        out.protocol = format!("{}; sweep picked by {criterion}", chosen.protocol);
        write_json(&ctx.output("metrics.json"), &serde_json::json!({ "summary": out }))?;
        let sel = Selection {
            criterion,
            chosen: from,
            why,
            candidates: recs
                .iter()
                .map(|(f, r)| Candidate {
                    from: f,
                    method: &r.method,
                    accuracy: r.accuracy,
                    selection_loss: r.selection_loss,
                })
                .collect(),
        };
        write_json(&ctx.output("selection.json"), &sel)
    }
}

/// Losses closer than this are indistinguishable: a training loss at ~1e-8 is float noise.
const LOSS_TIE: f64 = 1e-6;

/// Why `records[best]` won, and whether the criterion really separated it from the others (a
/// tie decided by the fallback order is worth knowing before reading much into the choice).
fn explain(criterion: &str, records: &[&EvalRecord], best: usize) -> String {
    let chosen = records[best];
    let loss = |r: &EvalRecord| r.selection_loss.unwrap_or(f64::NAN);
    let others =
        |same: &dyn Fn(&EvalRecord) -> bool| records.iter().enumerate().filter(|&(i, r)| i != best && same(r)).count();
    match criterion {
        "selection_loss" => {
            let tied = others(&|r| (loss(r) - loss(chosen)).abs() <= LOSS_TIE);
            let mut why = format!("lowest selection loss ({:.3e})", loss(chosen));
            if tied > 0 {
                why.push_str(&format!(
                    "; within {LOSS_TIE:.0e} of {tied} other candidate(s), so the choice among them is float noise"
                ));
            }
            why
        }
        _ => {
            let tied = others(&|r| r.correct == chosen.correct);
            let mut why = format!(
                "highest test accuracy ({}/{}) — chosen on TEST, as the paper did",
                chosen.correct, chosen.total
            );
            if tied > 0 {
                why.push_str(&format!("; tied with {tied} other candidate(s), broken by the lower selection loss"));
            }
            why
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(correct: usize, loss: f64) -> EvalRecord {
        let acc = correct as f64 / 100.0;
        EvalRecord {
            dataset: "D".into(),
            method: "m".into(),
            protocol: String::new(),
            n_classes: 2,
            correct,
            total: 100,
            accuracy: acc,
            balanced_accuracy: acc,
            macro_precision: acc,
            macro_recall: acc,
            macro_f1: acc,
            per_class_error: (1.0 - acc) / 2.0,
            selection_loss: Some(loss),
            resample: None,
        }
    }

    #[test]
    fn says_when_the_criterion_cannot_separate_the_candidates() {
        let (a, b, c) = (rec(90, 1e-8), rec(95, -2e-9), rec(95, 0.3));
        let why = explain("selection_loss", &[&a, &b, &c], 1);
        assert!(why.starts_with("lowest selection loss (-2.000e-9)"), "{why}");
        assert!(why.contains("1 other candidate(s)"), "{why}");
        let why = explain("test_accuracy", &[&a, &b, &c], 1);
        assert!(why.contains("95/100") && why.contains("tied with 1 other"), "{why}");
        let clear = explain("test_accuracy", &[&a, &c], 1);
        assert!(!clear.contains("tied"), "{clear}");
    }
}
