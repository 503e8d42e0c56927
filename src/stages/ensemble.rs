//! `ensemble`: one classifier from several members' predictions, their class probabilities
//! averaged and ties broken as aeon's InceptionTime / LITETime do (`models::ensemble`).

use super::artifact::{PREDICTIONS_FILE, Predictions, TIMING_FILE, Timing, read_json, timing_output, write_json};
use super::kind::{StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};
use crate::models::ensemble::{EnsembleError, Member, NonProbabilistic, combine, member_probabilities};

pub struct Ensemble;

const SCORE_MODES: &[&str] = &["one_hot", "softmax"];

crate::stage_params! {
    /// Parameters of `ensemble`.
    pub struct EnsembleParams {
        /// the method name in results tables
        pub label: String [Str = "${stage}"],
        /// seed of NumPy's RandomState that breaks ties between classes (aeon's random_state)
        pub seed: i64 [Int = 0],
        /// how a member whose scores are not probabilities (ridge decision values, 1-NN distances) votes: one_hot on its prediction (aeon's predict_proba) or softmax of its per-class scores
        pub non_probabilistic: String [Enum(SCORE_MODES) = "one_hot"],
    }
}

fn ensemble_err(e: EnsembleError) -> StageError {
    StageError::Other(Box::new(e))
}

/// The members' predictions, checked to be about the same test series and classes.
fn read_members(ctx: &StageContext<'_>) -> Result<Vec<(String, Predictions)>, StageError> {
    let inputs = ctx.gathered("predictions");
    let mut members = Vec::with_capacity(inputs.len());
    for a in inputs {
        let p: Predictions = read_json(a.file(PREDICTIONS_FILE)?)?;
        if let Some((first_name, first)) = members.first() {
            let first: &Predictions = first;
            let differs = |what: &str| {
                ensemble_err(EnsembleError::Member {
                    member: a.from.clone(),
                    what: format!("its {what} differ from those of `{first_name}`"),
                })
            };
            if p.dataset != first.dataset {
                return Err(differs("dataset and test series"));
            }
            if p.classes != first.classes {
                return Err(differs("classes"));
            }
            if p.truth != first.truth {
                return Err(differs("test series (true labels)"));
            }
        }
        members.push((a.from.clone(), p));
    }
    Ok(members)
}

impl TypedStage for Ensemble {
    type Params = EnsembleParams;
    fn resources(&self, _: &EnsembleParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::SHORT
    }
    fn name(&self) -> &'static str {
        "ensemble"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Averages several classifiers' class probabilities (e.g. 5 InceptionTime members), ties broken as aeon"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec {
            name: "predictions",
            required: true,
            gather: true,
            doc: "the members' predictions, e.g. { gather = \"predict\", over = [\"member\"] }",
        }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(PREDICTIONS_FILE, "test predictions with the averaged class probabilities"),
            OutputSpec::file("ensemble.json", "the members, their accuracies, the ties broken"),
            timing_output(),
        ]
    }
    fn run(&self, ctx: &StageContext<'_>, p: &EnsembleParams) -> Result<(), StageError> {
        let members = read_members(ctx)?;
        let (_, first) = members.first().ok_or_else(|| ensemble_err(EnsembleError::NoMembers))?;
        let k = first.classes.len();
        let mode = match p.non_probabilistic.as_str() {
            "softmax" => NonProbabilistic::Softmax,
            _ => NonProbabilistic::OneHot,
        };
        let probs = members
            .iter()
            .map(|(name, m)| {
                let member = Member { name, predicted: &m.predicted, scores: m.scores.as_deref() };
                member_probabilities(&member, k, mode).map_err(ensemble_err)
            })
            .collect::<Result<Vec<_>, _>>()?;
        // NumPy's RandomState takes seeds in [0, 2**32)
        let seed = u32::try_from(p.seed).map_err(|_| StageError::param("seed", "an integer in [0, 2^32)"))?;
        let c = combine(&probs, seed).map_err(ensemble_err)?;

        // the ensemble's cost is its members' (fit and predict summed where they were timed)
        let sum = |f: fn(&Timing) -> Option<u64>| -> Option<u64> {
            ctx.gathered("predictions").iter().map(|a| f(&Timing::of(a))).sum()
        };
        write_json(&ctx.output(TIMING_FILE), &Timing { fit_ms: sum(|t| t.fit_ms), predict_ms: sum(|t| t.predict_ms) })?;

        let mut protocols: Vec<&str> = Vec::new();
        for (_, m) in &members {
            if !protocols.contains(&m.protocol.as_str()) {
                protocols.push(&m.protocol);
            }
        }
        let losses: Option<Vec<f64>> = members.iter().map(|(_, m)| m.selection_loss).collect();
        let out = Predictions {
            dataset: first.dataset.clone(),
            method: p.label.clone(),
            protocol: format!("mean class probabilities of {} members; {}", members.len(), protocols.join("; ")),
            classes: first.classes.clone(),
            truth: first.truth.clone(),
            predicted: c.predicted,
            scores: Some(c.probabilities),
            selection_loss: losses.map(|l| l.iter().sum::<f64>() / l.len() as f64),
        };
        write_json(&ctx.output(PREDICTIONS_FILE), &out)?;
        let accuracy = |m: &Predictions| {
            m.truth.iter().zip(&m.predicted).filter(|(a, b)| a == b).count() as f64 / m.truth.len().max(1) as f64
        };
        let doc = serde_json::json!({
            "members": members.iter().map(|(name, m)| serde_json::json!({
                "from": name, "method": m.method, "accuracy": accuracy(m),
            })).collect::<Vec<_>>(),
            "accuracy": accuracy(&out),
            "ties": c.ties,
            "non_probabilistic": p.non_probabilistic,
            "seed": p.seed,
        });
        write_json(&ctx.output("ensemble.json"), &doc)
    }
}
