//! What a stage instance asks for, decided once for the local scheduler and the SLURM executor
//! alike. Each field comes from the first of these that sets it:
//! 1. `[executor.stages.NAME]` (the settings for that stage: a cluster's own knowledge),
//! 2. the stage's `resources = { … }` in the pipeline,
//! 3. `[executor]`'s `cpus`/`mem`/`time`/`gpus` (defaults for every stage),
//! 4. the stage kind's declaration ([`StageKind::resources`]), a time class giving the time limit;
//!
//! then one CPU, no memory or time limit. GPUs are asked for only by stages that want an
//! accelerator in a run on one (one unless set). None of this enters a cache key.

use crate::device::Device;
use crate::dsl::StageDecl;
use crate::settings::{ExecutorSettings, Resources};
use crate::stages::kind::{Params, StageKind};
use crate::util::resources::Request;

/// What each retry multiplies the memory or time that ran out by, unless `retry_factor` says.
pub const DEFAULT_RETRY_FACTOR: f64 = 2.0;

/// The request of an instance's first attempt.
pub fn request(
    stage: &StageDecl,
    kind: &dyn StageKind,
    params: &Params,
    device: &Device,
    settings: &ExecutorSettings,
) -> Request {
    let declared = kind.resources(params);
    let from_kind =
        Resources { cpus: declared.threads, mem: declared.mem, time: declared.time.map(|t| t.limit()), gpus: None };
    let r = settings
        .stages
        .get(&stage.name)
        .map(|s| s.resources())
        .unwrap_or_default()
        .or(stage.resources)
        .or(settings.resources())
        .or(from_kind);
    let accel = kind.wants_accelerator(params) && *device != Device::Cpu;
    Request {
        cpus: r.cpus.unwrap_or(1).max(1),
        mem: r.mem,
        time: r.time,
        gpus: if accel { r.gpus.unwrap_or(1) } else { 0 },
    }
}

/// Retries after running out of memory or time: `[executor.stages.NAME] retries`, else the
/// stage's `retries`, else `[executor] retries`, else none.
pub fn retries(stage: &StageDecl, settings: &ExecutorSettings) -> u32 {
    settings.stages.get(&stage.name).and_then(|s| s.retries).or(stage.retries).or(settings.retries).unwrap_or(0)
}

pub fn retry_factor(settings: &ExecutorSettings) -> f64 {
    settings.retry_factor.filter(|f| f.is_finite() && *f >= 1.0).unwrap_or(DEFAULT_RETRY_FACTOR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Memory, StageSettings, TimeLimit};
    use crate::stages::Registry;

    fn decl(name: &str, resources: Resources, retries: Option<u32>) -> StageDecl {
        StageDecl {
            name: name.into(),
            kind: String::new(),
            axes: Vec::new(),
            instances: Vec::new(),
            publish: false,
            loc: Default::default(),
            resources,
            retries,
        }
    }

    #[test]
    fn the_most_specific_setting_wins_field_by_field_over_the_kinds_declaration() {
        let reg = Registry::builtin();
        let train = reg.get("train").expect("train");
        let params =
            Params(serde_json::json!({ "model": { "model": "fcn" } }).as_object().cloned().unwrap_or_default());
        let none = ExecutorSettings::default();
        // the kind alone: two threads, 8G, a day; a GPU only when the run has one
        let r = request(&decl("t", Resources::default(), None), train, &params, &Device::Cpu, &none);
        assert_eq!(r, Request { cpus: 2, mem: Some(Memory::gib(8)), time: Some(TimeLimit::hours(24)), gpus: 0 });
        assert_eq!(request(&decl("t", Resources::default(), None), train, &params, &Device::Cuda(0), &none).gpus, 1);
        // [executor] over the kind, the stage's table over that, [executor.stages.t] over all
        let mut s = ExecutorSettings { mem: Some(Memory::gib(4)), cpus: Some(3), ..Default::default() };
        let stage = decl("t", Resources { mem: Some(Memory::gib(16)), gpus: Some(2), ..Default::default() }, Some(1));
        let r = request(&stage, train, &params, &Device::Cuda(0), &s);
        assert_eq!(r, Request { cpus: 3, mem: Some(Memory::gib(16)), time: Some(TimeLimit::hours(24)), gpus: 2 });
        s.stages.insert(
            "t".into(),
            StageSettings { time: Some(TimeLimit::hours(2)), retries: Some(3), ..Default::default() },
        );
        let r = request(&stage, train, &params, &Device::Cuda(0), &s);
        assert_eq!(r.time, Some(TimeLimit::hours(2)));
        assert_eq!(retries(&stage, &s), 3);
        assert_eq!(retries(&decl("t", Resources::default(), Some(1)), &ExecutorSettings::default()), 1);
        assert_eq!(
            retries(
                &decl("u", Resources::default(), None),
                &ExecutorSettings { retries: Some(2), ..Default::default() }
            ),
            2
        );
        // a kind that declares nothing asks for one CPU and no limits
        let toy = reg.get("evaluate").expect("evaluate");
        let r = request(&decl("e", Resources::default(), None), toy, &Params::default(), &Device::Cuda(0), &none);
        assert_eq!((r.cpus, r.gpus), (1, 0), "an analysis wants one core and never a GPU");
    }
}
