//! `transform`: a ROCKET-family transform (MiniRocket, MultiRocket, Hydra) fitted on TRAIN and applied to every split,
//! written as the feature table `features_classify` reads, so trying another classifier on the
//! same features reruns only the classifier. See [`crate::classic::minirocket`].

use super::artifact::{DATASET_FILE, read_dataset, write_json};
use super::features::{FEATURE_TABLE_FILE, write_features};
use super::kind::{Params, StageContext, StageError, TypedStage};
use super::params::StageParams;
use super::spec::{InputSpec, OutputSpec};
use crate::classic::hydra::{HYDRA_G, HYDRA_K};
use crate::classic::minirocket::BiasMode;
use crate::classic::multirocket::MULTIROCKET_FEATURES;
use crate::classic::rocket::{MAX_DILATIONS_PER_KERNEL, MINIROCKET_FEATURES, RocketTransform, transform_dataset};
use crate::param_name;

pub struct Transform;

const METHODS: &[&str] = &["minirocket", "multirocket", "hydra"];
const VARIANTS: &[&str] = &["random", "deterministic"];

crate::stage_params! {
    /// The transform parameters, shared with `rocket_classify`.
    pub struct TransformParams {
        /// which transform
        pub method: String [Enum(METHODS) = "minirocket"],
        /// MiniRocket/MultiRocket: number of features (absent = 10,000 for MiniRocket, 50,000 for MultiRocket; rounded down to what 84 kernels allow)
        pub num_features: Option<usize> [Int, optional],
        /// MultiRocket: also transform the first difference (absent = true)
        pub first_difference: Option<bool> [Bool, optional],
        /// Hydra: kernels per group k (absent = 8)
        pub kernels_per_group: Option<usize> [Int, optional],
        /// Hydra: groups g (absent = 64)
        pub groups: Option<usize> [Int, optional],
        /// at most this many dilations per kernel
        pub max_dilations_per_kernel: usize [Int = MAX_DILATIONS_PER_KERNEL as i64],
        /// biases from one random TRAIN series per kernel and dilation (the reference), or from the output over all TRAIN series (minirocket_dv)
        pub variant: String [Enum(VARIANTS) = "random"],
        /// seed of the random choices (which series gives each bias; which channels each kernel sums)
        pub seed: i64 [Int = 0],
    }
}

/// Writes the method's default feature count into the parameters, so that omitting it and
/// writing the default are one cache key.
pub fn canonicalize_transform(p: &mut Params) -> Result<(), StageError> {
    type P = TransformParams;
    let method = P::from_params(p)?.method;
    let (k, g, n, fd) = (
        param_name!(P, kernels_per_group),
        param_name!(P, groups),
        param_name!(P, num_features),
        param_name!(P, first_difference),
    );
    let (dil, variant) = (param_name!(P, max_dilations_per_kernel), param_name!(P, variant));
    let mut set = |name: &str, v: serde_json::Value| {
        p.0.entry(name.to_string()).or_insert(v);
    };
    match method.as_str() {
        "hydra" => {
            set(k, HYDRA_K.into());
            set(g, HYDRA_G.into());
        }
        "multirocket" => {
            set(n, MULTIROCKET_FEATURES.into());
            set(fd, true.into());
        }
        _ => set(n, MINIROCKET_FEATURES.into()),
    }
    // Keep each method's key free of the others' settings.
    let drop: &[&str] = match method.as_str() {
        "hydra" => &[n, dil, variant, fd],
        "multirocket" => &[k, g],
        _ => &[k, g, fd],
    };
    for k in drop {
        p.0.remove(*k);
    }
    Ok(())
}

/// The transform the (canonicalised) parameters describe.
pub fn transform_from_params(p: &TransformParams) -> Result<RocketTransform, StageError> {
    type P = TransformParams;
    let seed = p.seed as u64;
    if p.method == "hydra" {
        let k = p.kernels_per_group.unwrap_or(HYDRA_K);
        let g = p.groups.unwrap_or(HYDRA_G);
        if k < 2 {
            return Err(StageError::param(param_name!(P, kernels_per_group), "at least 2"));
        }
        if g < 2 || !g.is_multiple_of(2) {
            return Err(StageError::param(param_name!(P, groups), "an even number, at least 2"));
        }
        return Ok(RocketTransform::Hydra { k, g, seed });
    }
    let multi = p.method == "multirocket";
    let num_features = p.num_features.unwrap_or(if multi { MULTIROCKET_FEATURES } else { MINIROCKET_FEATURES });
    let minimum = if multi { 8 * 84 } else { 84 };
    if num_features < minimum {
        return Err(StageError::param(
            param_name!(P, num_features),
            &format!("at least {minimum} (one feature per kernel)"),
        ));
    }
    let max_dilations_per_kernel = match p.max_dilations_per_kernel {
        0 => return Err(StageError::param(param_name!(P, max_dilations_per_kernel), "a positive integer")),
        d => d,
    };
    let bias = match p.variant.as_str() {
        "deterministic" => BiasMode::Deterministic { seed },
        _ => BiasMode::Random { seed },
    };
    Ok(if multi {
        RocketTransform::MultiRocket {
            num_features,
            max_dilations_per_kernel,
            bias,
            first_difference: p.first_difference.unwrap_or(true),
        }
    } else {
        RocketTransform::MiniRocket { num_features, max_dilations_per_kernel, bias }
    })
}

impl TypedStage for Transform {
    type Params = TransformParams;
    fn resources(&self, _: &TransformParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::CLASSIC
    }
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
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "data", required: true, gather: false, doc: "a dataset" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(FEATURE_TABLE_FILE, "the feature table (postcard)"),
            OutputSpec::file("transform.json", "the method, its settings and the feature count"),
        ]
    }
    fn canonicalize(&self, p: &mut Params) -> Result<(), StageError> {
        canonicalize_transform(p)
    }
    fn run(&self, ctx: &StageContext<'_>, p: &TransformParams) -> Result<(), StageError> {
        let t = transform_from_params(p)?;
        let ds = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        ctx.report(
            None,
            format!("{}: {} series × {} channels × {}", t.name(), ds.train.n + ds.test.n, ds.train.dims, ds.train.len),
        );
        let table = transform_dataset(&ds, &t).map_err(|e| StageError::failed(format!("{}: {e}", ds.name)))?;
        write_features(&ctx.output(FEATURE_TABLE_FILE), &table)?;
        let info = serde_json::json!({
            "method": t.name(),
            "params": ctx.params,
            "features": table.train.width,
        });
        write_json(&ctx.output("transform.json"), &info)
    }
}
