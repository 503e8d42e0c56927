//! `transform`: a ROCKET-family transform (MiniRocket, MultiRocket, Hydra) fitted on TRAIN and applied to every split,
//! written as the feature table `features_classify` reads, so trying another classifier on the
//! same features reruns only the classifier. See [`crate::classic::minirocket`].

use super::artifact::{DATASET_FILE, read_dataset, write_json};
use super::features::{FEATURES_FILE, write_features};
use super::kind::{Params, StageContext, StageError, StageKind};
use super::spec::{InputSpec, OutputSpec, ParamSpec, ParamType};
use crate::classic::hydra::{HYDRA_G, HYDRA_K};
use crate::classic::minirocket::BiasMode;
use crate::classic::multirocket::MULTIROCKET_FEATURES;
use crate::classic::rocket::{MAX_DILATIONS_PER_KERNEL, MINIROCKET_FEATURES, RocketTransform, transform_dataset};

pub struct Transform;

const METHODS: &[&str] = &["minirocket", "multirocket", "hydra"];
const VARIANTS: &[&str] = &["random", "deterministic"];

/// The transform parameters, shared with `rocket_classify`.
pub fn transform_params() -> Vec<ParamSpec> {
    vec![
        ParamSpec::with_default("method", ParamType::Enum(METHODS), "minirocket", "which transform"),
        ParamSpec::optional(
            "num_features",
            ParamType::Int,
            "MiniRocket/MultiRocket: number of features (absent = 10,000 for MiniRocket, 50,000 for MultiRocket; \
             rounded down to what 84 kernels allow)",
        ),
        ParamSpec::optional(
            "first_difference",
            ParamType::Bool,
            "MultiRocket: also transform the first difference (absent = true)",
        ),
        ParamSpec::optional("kernels_per_group", ParamType::Int, "Hydra: kernels per group k (absent = 8)"),
        ParamSpec::optional("groups", ParamType::Int, "Hydra: groups g (absent = 64)"),
        ParamSpec::with_default(
            "max_dilations_per_kernel",
            ParamType::Int,
            MAX_DILATIONS_PER_KERNEL as i64,
            "at most this many dilations per kernel",
        ),
        ParamSpec::with_default(
            "variant",
            ParamType::Enum(VARIANTS),
            "random",
            "biases from one random TRAIN series per kernel and dilation (the reference), or from the output over all TRAIN series (minirocket_dv)",
        ),
        ParamSpec::with_default(
            "seed",
            ParamType::Int,
            0,
            "seed of the random choices (which series gives each bias; which channels each kernel sums)",
        ),
    ]
}

/// Writes the method's default feature count into the parameters, so that omitting it and
/// writing the default are one cache key.
pub fn canonicalize_transform(p: &mut Params) {
    let method = p.opt_str("method").unwrap_or("minirocket").to_string();
    let mut set = |name: &str, v: serde_json::Value| {
        p.0.entry(name.to_string()).or_insert(v);
    };
    match method.as_str() {
        "hydra" => {
            set("kernels_per_group", HYDRA_K.into());
            set("groups", HYDRA_G.into());
        }
        "multirocket" => {
            set("num_features", MULTIROCKET_FEATURES.into());
            set("first_difference", true.into());
        }
        _ => set("num_features", MINIROCKET_FEATURES.into()),
    }
    // Keep each method's key free of the others' settings.
    let drop: &[&str] = match method.as_str() {
        "hydra" => &["num_features", "max_dilations_per_kernel", "variant", "first_difference"],
        "multirocket" => &["kernels_per_group", "groups"],
        _ => &["kernels_per_group", "groups", "first_difference"],
    };
    for k in drop {
        p.0.remove(*k);
    }
}

/// The transform the parameters describe.
pub fn transform_from_params(p: &Params) -> Result<RocketTransform, StageError> {
    let seed = p.i64("seed")? as u64;
    if p.str("method")? == "hydra" {
        let k = p.usize("kernels_per_group")?;
        let g = p.usize("groups")?;
        if k < 2 {
            return Err(StageError::param("kernels_per_group", "at least 2"));
        }
        if g < 2 || g % 2 != 0 {
            return Err(StageError::param("groups", "an even number, at least 2"));
        }
        return Ok(RocketTransform::Hydra { k, g, seed });
    }
    let num_features = p.usize("num_features")?;
    let minimum = if p.str("method")? == "multirocket" { 8 * 84 } else { 84 };
    if num_features < minimum {
        return Err(StageError::param("num_features", &format!("at least {minimum} (one feature per kernel)")));
    }
    let max_dilations_per_kernel = match p.usize("max_dilations_per_kernel")? {
        0 => return Err(StageError::param("max_dilations_per_kernel", "a positive integer")),
        d => d,
    };
    let bias = match p.str("variant")? {
        "deterministic" => BiasMode::Deterministic { seed },
        _ => BiasMode::Random { seed },
    };
    Ok(match p.str("method")? {
        "multirocket" => RocketTransform::MultiRocket {
            num_features,
            max_dilations_per_kernel,
            bias,
            first_difference: p.bool("first_difference")?,
        },
        _ => RocketTransform::MiniRocket { num_features, max_dilations_per_kernel, bias },
    })
}

impl StageKind for Transform {
    fn name(&self) -> &'static str {
        "transform"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "MiniRocket, MultiRocket or Hydra features fitted on TRAIN (Hydra's through its sparse scaler), \
         for features_classify"
    }
    fn params(&self) -> Vec<ParamSpec> {
        transform_params()
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "data", required: true, gather: false, doc: "a dataset" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(FEATURES_FILE, "the feature table (postcard)"),
            OutputSpec::file("transform.json", "the method, its settings and the feature count"),
        ]
    }
    fn canonicalize(&self, p: &mut Params) -> Result<(), String> {
        canonicalize_transform(p);
        Ok(())
    }
    fn run(&self, ctx: &StageContext<'_>) -> Result<(), StageError> {
        let t = transform_from_params(ctx.params)?;
        let ds = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        ctx.report(
            None,
            format!("{}: {} series × {} channels × {}", t.name(), ds.train.n + ds.test.n, ds.train.dims, ds.train.len),
        );
        let table = transform_dataset(&ds, &t).map_err(|e| StageError::failed(format!("{}: {e}", ds.name)))?;
        write_features(&ctx.output(FEATURES_FILE), &table)?;
        let info = serde_json::json!({
            "method": t.name(),
            "params": ctx.params,
            "features": table.train.width,
        });
        write_json(&ctx.output("transform.json"), &info)
    }
}
