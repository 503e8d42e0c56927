//! Stage kinds: one file per kind, each a small [`TypedStage`] implementation over its parameter
//! struct (see [`params`]), and the registry that maps the `kind = "…"` of a pipeline file to them
//! (as [`StageKind`]s).

pub mod analyze;
pub mod artifact;
pub mod classify;
pub mod command;
pub mod ensemble;
pub mod evaluate;
pub mod export;
pub mod features;
pub mod features_classify;
pub mod finetune;
pub mod kind;
pub mod load;
pub mod markdown;
pub mod normalise;
pub mod pair_expand;
pub mod params;
pub mod predict;
pub mod predict_pairs;
pub mod report;
pub mod resample;
pub mod rocket_classify;
pub mod select;
pub mod spec;
pub mod split;
pub mod table;
pub mod train;
pub mod train_pairs;
pub mod transform;
pub mod window;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use kind::{StageContext, StageError, StageKind, TypedStage};
pub use params::StageParams;

/// All stage kinds known to the engine.
#[derive(Clone)]
pub struct Registry {
    kinds: BTreeMap<&'static str, Arc<dyn StageKind>>,
}

impl Registry {
    pub fn empty() -> Registry {
        Registry { kinds: BTreeMap::new() }
    }

    /// The built-in kinds.
    pub fn builtin() -> Registry {
        let mut r = Registry::empty();
        for k in builtin_kinds() {
            r.register(k);
        }
        r
    }

    pub fn register(&mut self, kind: Arc<dyn StageKind>) {
        self.kinds.insert(kind.name(), kind);
    }

    pub fn get(&self, name: &str) -> Option<&dyn StageKind> {
        self.kinds.get(name).map(|k| k.as_ref())
    }

    pub fn get_arc(&self, name: &str) -> Option<Arc<dyn StageKind>> {
        self.kinds.get(name).cloned()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.kinds.keys().copied().collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &dyn StageKind> {
        self.kinds.values().map(|k| k.as_ref())
    }
}

fn builtin_kinds() -> Vec<Arc<dyn StageKind>> {
    vec![
        Arc::new(load::Load),
        Arc::new(normalise::Normalise),
        Arc::new(split::SplitStage),
        Arc::new(resample::Resample),
        Arc::new(classify::Classify),
        Arc::new(evaluate::Evaluate),
        Arc::new(ensemble::Ensemble),
        Arc::new(export::Export),
        Arc::new(table::Table),
        Arc::new(train::Train),
        Arc::new(finetune::Finetune),
        Arc::new(predict::Predict),
        Arc::new(select::Select),
        Arc::new(analyze::Analyze),
        Arc::new(report::Report),
        Arc::new(pair_expand::PairExpand),
        Arc::new(train_pairs::TrainPairs),
        Arc::new(predict_pairs::PredictPairs),
        Arc::new(features::Features),
        Arc::new(features_classify::FeaturesClassify),
        Arc::new(window::Window),
        Arc::new(transform::Transform),
        Arc::new(rocket_classify::RocketClassify),
        Arc::new(command::Command),
    ]
}
