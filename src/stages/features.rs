//! `features`: the CNN-TS paper's hand-crafted features of every series (see
//! [`crate::classic::features`] for the exact definitions), as a table classifiers read.

use std::fmt::Write as _;

use super::artifact::{DATASET_FILE, read_dataset};
use super::kind::{StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};
use crate::classic::feature_models::FeatureRows;
use crate::classic::features::{DEFAULT_WAVELET_LEVELS, FeatureExtractor, FeatureTable};
use crate::util::csv::csv_field;

pub struct Features;

/// The hand-crafted feature table (postcard) of the `features` stage, which `features_classify`
/// reads; not the learned features of `predict` ([`super::artifact::FEATURES_FILE`]).
pub const FEATURE_TABLE_FILE: &str = "features.bin";

pub fn write_features(path: &std::path::Path, t: &FeatureTable) -> Result<(), StageError> {
    let bytes = postcard::to_stdvec(t).map_err(|e| StageError::failed(format!("encoding features: {e}")))?;
    std::fs::write(path, bytes).map_err(|e| StageError::io(path, e))
}

pub fn read_features(path: &std::path::Path) -> Result<FeatureTable, StageError> {
    let bytes = std::fs::read(path).map_err(|e| StageError::io(path, e))?;
    postcard::from_bytes(&bytes)
        .map_err(|e| StageError::failed(format!("{}: not a feature table: {e}", path.display())))
}

/// `split,label,<feature…>` rows for people to open (the full precision of `f64` Display).
pub fn to_csv(t: &FeatureTable) -> String {
    let mut out = String::from("split,label");
    for n in &t.names {
        out.push(',');
        out.push_str(&csv_field(n));
    }
    out.push('\n');
    let mut rows = |split: &str, r: &FeatureRows| {
        for i in 0..r.n {
            let label = t.classes.get(r.labels[i]).map(String::as_str).unwrap_or("?");
            let _ = write!(out, "{split},{}", csv_field(label));
            for v in r.row(i) {
                let _ = write!(out, ",{v}");
            }
            out.push('\n');
        }
    };
    rows("train", &t.train);
    if let Some(v) = &t.validation {
        rows("validation", v);
    }
    rows("test", &t.test);
    out
}

crate::stage_params! {
    /// Parameters of `features`.
    pub struct FeaturesParams {
        /// db4 decomposition levels (capped at PyWavelets' dwt_max_level, at least 1)
        pub wavelet_levels: usize [Int = DEFAULT_WAVELET_LEVELS as i64],
    }
}

impl TypedStage for Features {
    type Params = FeaturesParams;
    fn resources(&self, _: &FeaturesParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::CLASSIC
    }
    fn name(&self) -> &'static str {
        "features"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Per-series (per-channel) features: RMS, variance, max, skewness, kurtosis, peak-to-peak, \
         spectral power/skewness/kurtosis, db4 wavelet detail energy"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "data", required: true, gather: false, doc: "a dataset" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(FEATURE_TABLE_FILE, "the feature table (postcard)"),
            OutputSpec::published("features.csv", "the features, one row per series"),
        ]
    }
    fn run(&self, ctx: &StageContext<'_>, p: &FeaturesParams) -> Result<(), StageError> {
        let levels = p.wavelet_levels;
        if levels == 0 {
            return Err(StageError::param(crate::param_name!(FeaturesParams, wavelet_levels), "at least 1"));
        }
        let ds = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        ctx.report(None, format!("{} series × {} channels", ds.train.n + ds.test.n, ds.train.dims));
        let table = FeatureExtractor::new(levels).dataset_features(&ds);
        write_features(&ctx.output(FEATURE_TABLE_FILE), &table)?;
        ctx.write("features.csv", to_csv(&table))
    }
}
