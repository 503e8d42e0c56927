//! `pair_expand`: the CNN-TS training pairs of a dataset's TRAIN split — every series paired
//! with the NearMiss representatives (the paper: 2 per class) or with every series (N²).
//! Writes index pairs, never copies of the series.

use serde_json::Number;

use super::artifact::{DATASET_FILE, read_dataset, write_json};
use super::kind::{Params, StageContext, StageError, TypedStage};
use super::params::StageParams;
use super::spec::{InputSpec, OutputSpec};
use crate::classic::{Metric, Window};
use crate::pairs::{NearMiss, PairSet, nearmiss};
use crate::param_name;

pub struct PairExpand;

/// The pair set ([`PairSet::to_bytes`]).
pub const PAIRS_FILE: &str = "pairs.bin";
/// The representatives and pair counts, for people.
pub const REPRESENTATIVES_FILE: &str = "representatives.json";

const PARTNERS: &[&str] = &["representatives", "all"];
const DISTANCES: &[&str] = &["euclidean", "dtw"];

crate::stage_params! {
    /// Parameters of `pair_expand`.
    pub struct PairExpandParams {
        /// what In2 ranges over: NearMiss representatives (N × M pairs) or every series (N² pairs)
        pub partners: String [Enum(PARTNERS) = "representatives"],
        /// representatives per class (the paper: 2)
        pub per_class: usize [Int = 2],
        /// NearMiss version 1, 2 or 3
        pub nearmiss_version: usize [Int = 1],
        /// NearMiss neighbours (imbalanced-learn default 3)
        pub n_neighbors: usize [Int = 3],
        /// NearMiss-3 shortlist size
        pub n_neighbors_ver3: usize [Int = 3],
        /// NearMiss distance
        pub distance: String [Enum(DISTANCES) = "euclidean"],
        /// DTW Sakoe–Chiba band: a fraction of the length (1.0 = full) or an integer number of cells
        pub window: Number [Number = 1.0],
    }
}

fn window(n: &Number) -> Result<Window, StageError> {
    match n {
        n if n.is_f64() => {
            let f = n.as_f64().unwrap_or(1.0);
            if !(0.0..=1.0).contains(&f) {
                return Err(StageError::failed(format!("window {f}: a fraction must be in [0, 1]")));
            }
            Ok(if f >= 1.0 { Window::Full } else { Window::Fraction(f) })
        }
        n => Ok(Window::Cells(n.as_u64().unwrap_or(0) as usize)),
    }
}

/// The NearMiss configuration the parameters describe.
pub fn nearmiss_config(p: &PairExpandParams) -> Result<NearMiss, StageError> {
    let version = u8::try_from(p.nearmiss_version)
        .map_err(|_| StageError::param(param_name!(PairExpandParams, nearmiss_version), "1, 2 or 3"))?;
    let metric = match p.distance.as_str() {
        "dtw" => Metric::Dtw { window: window(&p.window)? },
        _ => Metric::Euclidean,
    };
    let cfg = NearMiss {
        version,
        per_class: p.per_class,
        n_neighbors: p.n_neighbors,
        n_neighbors_ver3: p.n_neighbors_ver3,
        metric,
    };
    cfg.validate()?;
    Ok(cfg)
}

impl TypedStage for PairExpand {
    type Params = PairExpandParams;
    fn resources(&self, _: &PairExpandParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::SHORT
    }
    fn name(&self) -> &'static str {
        "pair_expand"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "CNN-TS pair expansion of TRAIN: each series × NearMiss representatives (or × all, N²), as index pairs"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "data", required: true, gather: false, doc: "a dataset (its TRAIN split is expanded)" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(PAIRS_FILE, "index pairs (i, j) with the labels they derive from (postcard)"),
            OutputSpec::published(REPRESENTATIVES_FILE, "representatives per class, pair counts, parameters"),
        ]
    }
    fn canonicalize(&self, p: &mut Params) -> Result<(), StageError> {
        // Parameters that cannot change the result stay out of the key.
        type P = PairExpandParams;
        let typed = P::from_params(p)?;
        let window = param_name!(P, window);
        if typed.partners == "all" {
            for k in [
                param_name!(P, per_class),
                param_name!(P, nearmiss_version),
                param_name!(P, n_neighbors),
                param_name!(P, n_neighbors_ver3),
                param_name!(P, distance),
                window,
            ] {
                p.0.remove(k);
            }
        } else if typed.distance == "euclidean" {
            p.0.remove(window);
        }
        Ok(())
    }
    fn run(&self, ctx: &StageContext<'_>, p: &PairExpandParams) -> Result<(), StageError> {
        let ds = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        let k = ds.n_classes();
        let err = |e: crate::pairs::PairError| StageError::failed(format!("{}: {e}", ds.name));
        let (set, nm) = match p.partners.as_str() {
            "all" => (PairSet::all(&ds.train.labels, k).map_err(err)?, None),
            _ => {
                let cfg = nearmiss_config(p)?;
                ctx.report(None, format!("NearMiss-{} over {} series", cfg.version, ds.train.n));
                let reps = nearmiss(&ds.train, k, &cfg).map_err(err)?;
                (PairSet::with_partners(&ds.train.labels, k, &reps).map_err(err)?, Some(cfg))
            }
        };
        ctx.write(PAIRS_FILE, set.to_bytes().map_err(err)?)?;
        let doc = serde_json::json!({
            "dataset": ds.name,
            "classes": ds.classes,
            "train_series": ds.train.n,
            "representatives": set.partners,
            "representative_classes": set.partners.iter().map(|&j| ds.classes[set.labels[j as usize] as usize].clone()).collect::<Vec<_>>(),
            "per_class": set.partners_per_class(),
            "counts": set.counts(),
            "nearmiss": nm,
        });
        write_json(&ctx.output(REPRESENTATIVES_FILE), &doc)
    }
}
