//! `transform`: a ROCKET-family transform (ROCKET, MiniRocket, MultiRocket, Hydra, MultiRocket-Hydra)
//! or QUANT's interval quantiles, fitted on TRAIN and applied to every split,
//! written as the feature table `features_classify` reads, so trying another classifier on the
//! same features reruns only the classifier. See [`crate::classic::minirocket`].

use super::artifact::{DATASET_FILE, read_dataset, write_json};
use super::features::FEATURE_TABLE_FILE;
use super::kind::{Params, StageContext, StageError, TypedStage};
use super::params::StageParams;
use super::spec::{InputSpec, OutputSpec};
use crate::classic::hydra::{HYDRA_G, HYDRA_K};
use crate::classic::minirocket::BiasMode;
use crate::classic::multirocket::MULTIROCKET_FEATURES;
use crate::classic::quant::{QUANT_DEPTH, QUANT_DIVISOR};
use crate::classic::random_kernels::ROCKET_KERNELS;
use crate::classic::rocket::{MAX_DILATIONS_PER_KERNEL, MINIROCKET_FEATURES, RocketTransform, transform_to_file};
use crate::param_name;

pub struct Transform;

const METHODS: &[&str] = &["minirocket", "multirocket", "hydra", "rocket", "mr_hydra", "quant"];
const VARIANTS: &[&str] = &["random", "deterministic"];

crate::stage_params! {
    /// The transform parameters, shared with `rocket_classify`.
    pub struct TransformParams {
        /// which transform
        pub method: String [Enum(METHODS) = "minirocket"],
        /// MiniRocket/MultiRocket/MR-Hydra: number of (MultiRocket) features (absent = 10,000 for MiniRocket, 50,000 for MultiRocket; rounded down to what 84 kernels allow)
        pub num_features: Option<usize> [Int, optional],
        /// MultiRocket/MR-Hydra: also transform the first difference (absent = true)
        pub first_difference: Option<bool> [Bool, optional],
        /// Hydra/MR-Hydra: kernels per group k (absent = 8)
        pub kernels_per_group: Option<usize> [Int, optional],
        /// Hydra/MR-Hydra: groups g (absent = 64)
        pub groups: Option<usize> [Int, optional],
        /// at most this many dilations per kernel
        pub max_dilations_per_kernel: usize [Int = MAX_DILATIONS_PER_KERNEL as i64],
        /// biases from one random TRAIN series per kernel and dilation (the reference), or from the output over all TRAIN series (minirocket_dv)
        pub variant: String [Enum(VARIANTS) = "random"],
        /// seed of the random choices (which series gives each bias; which channels each kernel sums)
        pub seed: i64 [Int = 0],
        /// ROCKET: random kernels, two features each (absent = 10,000)
        pub num_kernels: Option<usize> [Int, optional],
        /// ROCKET: z-normalise each series first (absent = true, aeon's default)
        pub normalise: Option<bool> [Bool, optional],
        /// QUANT: interval depth (absent = 6)
        pub depth: Option<usize> [Int, optional],
        /// QUANT: one quantile per this many values of an interval (absent = 4)
        pub divisor: Option<usize> [Int, optional],
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
    let (kernels, normalise) = (param_name!(P, num_kernels), param_name!(P, normalise));
    let (depth, divisor) = (param_name!(P, depth), param_name!(P, divisor));
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
        "mr_hydra" => {
            set(k, HYDRA_K.into());
            set(g, HYDRA_G.into());
            set(n, MULTIROCKET_FEATURES.into());
            set(fd, true.into());
        }
        "rocket" => {
            set(kernels, ROCKET_KERNELS.into());
            set(normalise, true.into());
        }
        "quant" => {
            set(depth, QUANT_DEPTH.into());
            set(divisor, QUANT_DIVISOR.into());
        }
        _ => set(n, MINIROCKET_FEATURES.into()),
    }
    // Keep each method's key free of the others' settings.
    let drop: &[&str] = match method.as_str() {
        "hydra" => &[n, dil, variant, fd, kernels, normalise, depth, divisor],
        "multirocket" => &[k, g, kernels, normalise, depth, divisor],
        "mr_hydra" => &[kernels, normalise, depth, divisor],
        "rocket" => &[n, dil, variant, fd, k, g, depth, divisor],
        "quant" => &[n, dil, variant, fd, k, g, kernels, normalise],
        _ => &[k, g, fd, kernels, normalise, depth, divisor],
    };
    for k in drop {
        p.0.remove(*k);
    }
    Ok(())
}

fn hydra_shape(p: &TransformParams) -> Result<(usize, usize), StageError> {
    type P = TransformParams;
    let k = p.kernels_per_group.unwrap_or(HYDRA_K);
    let g = p.groups.unwrap_or(HYDRA_G);
    if k < 2 {
        return Err(StageError::param(param_name!(P, kernels_per_group), "at least 2"));
    }
    if g < 2 || !g.is_multiple_of(2) {
        return Err(StageError::param(param_name!(P, groups), "an even number, at least 2"));
    }
    Ok((k, g))
}

fn positive(v: Option<usize>, default: usize, name: &'static str) -> Result<usize, StageError> {
    match v.unwrap_or(default) {
        0 => Err(StageError::param(name, "a positive integer")),
        v => Ok(v),
    }
}

/// The transform the (canonicalised) parameters describe.
pub fn transform_from_params(p: &TransformParams) -> Result<RocketTransform, StageError> {
    type P = TransformParams;
    let seed = p.seed as u64;
    match p.method.as_str() {
        "hydra" => {
            let (k, g) = hydra_shape(p)?;
            return Ok(RocketTransform::Hydra { k, g, seed });
        }
        "rocket" => {
            return Ok(RocketTransform::Rocket {
                num_kernels: positive(p.num_kernels, ROCKET_KERNELS, param_name!(P, num_kernels))?,
                normalise: p.normalise.unwrap_or(true),
                seed,
            });
        }
        "quant" => {
            return Ok(RocketTransform::Quant {
                depth: positive(p.depth, QUANT_DEPTH, param_name!(P, depth))?,
                divisor: positive(p.divisor, QUANT_DIVISOR, param_name!(P, divisor))?,
            });
        }
        _ => {}
    }
    let multi = p.method == "multirocket" || p.method == "mr_hydra";
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
    let first_difference = p.first_difference.unwrap_or(true);
    Ok(match p.method.as_str() {
        "mr_hydra" => {
            let (k, g) = hydra_shape(p)?;
            RocketTransform::MrHydra { k, g, num_features, max_dilations_per_kernel, bias, first_difference }
        }
        "multirocket" => {
            RocketTransform::MultiRocket { num_features, max_dilations_per_kernel, bias, first_difference }
        }
        _ => RocketTransform::MiniRocket { num_features, max_dilations_per_kernel, bias },
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
        // 2: the features are stored as f32 (classic::feature_file), no longer as an f64 table.
        2
    }
    fn about(&self) -> &'static str {
        "ROCKET, MiniRocket, MultiRocket, Hydra, MultiRocket-Hydra or QUANT features fitted on TRAIN (Hydra's \
         through its sparse scaler, MultiRocket-Hydra's through both its scalers), for features_classify"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "data", required: true, gather: false, doc: "a dataset" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(FEATURE_TABLE_FILE, "the feature table (f32 rows after a header)"),
            OutputSpec::file("transform.json", "the method, its settings and the feature count"),
        ]
    }
    fn canonicalize(&self, p: &mut Params) -> Result<(), StageError> {
        canonicalize_transform(p)?;
        // QUANT's transform draws nothing: its seed would only split the cache.
        if TransformParams::from_params(p)?.method == "quant" {
            p.0.remove(param_name!(TransformParams, seed));
        }
        Ok(())
    }
    fn run(&self, ctx: &StageContext<'_>, p: &TransformParams) -> Result<(), StageError> {
        let t = transform_from_params(p)?;
        let ds = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        ctx.report(
            None,
            format!("{}: {} series × {} channels × {}", t.name(), ds.train.n + ds.test.n, ds.train.dims, ds.train.len),
        );
        let width = transform_to_file(&ds, &t, &ctx.output(FEATURE_TABLE_FILE))
            .map_err(|e| StageError::failed(format!("{}: {e}", ds.name)))?;
        let info = serde_json::json!({
            "method": t.name(),
            "params": ctx.params,
            "features": width,
        });
        write_json(&ctx.output("transform.json"), &info)
    }
}
