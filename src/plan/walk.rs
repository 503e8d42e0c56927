//! The walk over a plan: each instance once its upstream is resolved, with its key inputs and
//! its cache lookup. `run` resolves instances as they are found or computed; `status` and
//! `cache pull` resolve what the cache holds and then look at the rest with [`Walk::rest`].

use std::collections::VecDeque;
use std::sync::Arc;

use crate::cache::{Cache, Lookup, Manifest, Verify};
use crate::device::Device;
use crate::stages::Registry;
use crate::stages::kind::{RunEnv, StageKind};

use super::Plan;
use super::keys::{FileDigests, KeyBlock, Keyed, key_inputs};

/// One instance of the walk.
pub struct Step {
    pub index: usize,
    pub kind: Arc<dyn StageKind>,
    /// The key, or why it cannot be computed yet.
    pub keyed: Result<Keyed, KeyBlock>,
    /// The cache's answer for the key (`Missing` when there is no key).
    pub lookup: Lookup,
}

/// Walks a plan in dependency order. Iterating yields the instances whose upstream is resolved
/// (initially those without inputs); [`Walk::resolve`] gives an instance its manifest and makes
/// its dependents ready when it was their last unresolved upstream.
pub struct Walk<'a, 'p> {
    plan: &'a Plan<'p>,
    registry: &'a Registry,
    env: &'a RunEnv,
    device: &'a Device,
    cache: &'a Cache,
    verify: Verify,
    files: FileDigests,
    resolved: Vec<Option<Manifest>>,
    waiting: Vec<usize>,
    ready: VecDeque<usize>,
    visited: Vec<bool>,
}

impl<'a, 'p> Walk<'a, 'p> {
    /// Keys are looked up in `cache` with `verify` (a remote behind `cache` is read through by
    /// [`Verify::Full`] lookups only).
    pub fn new(
        plan: &'a Plan<'p>,
        registry: &'a Registry,
        env: &'a RunEnv,
        device: &'a Device,
        cache: &'a Cache,
        verify: Verify,
    ) -> Walk<'a, 'p> {
        let n = plan.len();
        let waiting: Vec<usize> = (0..n).map(|i| plan.upstream(i).len()).collect();
        let ready = (0..n).filter(|&i| waiting[i] == 0).collect();
        Walk {
            plan,
            registry,
            env,
            device,
            cache,
            verify,
            files: FileDigests::default(),
            resolved: vec![None; n],
            waiting,
            ready,
            visited: vec![false; n],
        }
    }

    pub fn plan(&self) -> &'a Plan<'p> {
        self.plan
    }

    /// The manifests known so far, by instance.
    pub fn resolved(&self) -> &[Option<Manifest>] {
        &self.resolved
    }

    /// Records `i`'s entry; dependents whose upstream is now all resolved become ready.
    pub fn resolve(&mut self, i: usize, manifest: Manifest) {
        if self.resolved[i].replace(manifest).is_some() {
            return;
        }
        for &d in self.plan.dependents(i) {
            self.waiting[d] -= 1;
            if self.waiting[d] == 0 {
                self.ready.push_back(d);
            }
        }
    }

    /// Whether `i` has been yielded (by iteration or by [`Walk::rest`]).
    pub fn visited(&self, i: usize) -> bool {
        self.visited[i]
    }

    /// The instances never yielded, in dependency order, each keyed against what is resolved
    /// (so usually blocked on its upstream). Ends the walk.
    pub fn rest(&mut self) -> Vec<Step> {
        let order: Vec<usize> = self.plan.order().iter().copied().filter(|&i| !self.visited[i]).collect();
        order.into_iter().filter_map(|i| self.step(i)).collect()
    }

    fn step(&mut self, i: usize) -> Option<Step> {
        self.visited[i] = true;
        let p = self.plan.pipeline;
        // Kinds were validated when the pipeline was expanded.
        let kind = self.registry.get_arc(&p.instances[i].kind)?;
        let keyed = key_inputs(p, i, kind.as_ref(), &self.resolved, self.device, self.env, &self.files);
        let lookup = match &keyed {
            Ok(k) => self.cache.lookup(&k.key, self.verify),
            Err(_) => Lookup::Missing,
        };
        Some(Step { index: i, kind, keyed, lookup })
    }
}

impl Iterator for Walk<'_, '_> {
    type Item = Step;

    fn next(&mut self) -> Option<Step> {
        while let Some(i) = self.ready.pop_front() {
            if self.visited[i] {
                continue;
            }
            if let Some(step) = self.step(i) {
                return Some(step);
            }
        }
        None
    }
}
