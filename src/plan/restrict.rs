//! `--target`: the part of a pipeline some stages need.

use crate::dsl::Expanded;

/// A `--target` that names neither a stage nor an instance.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--target `{target}` is neither a stage nor an instance of pipeline `{pipeline}`{}", nearest.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
pub struct UnknownTarget {
    pub target: String,
    pub pipeline: String,
    /// The stage whose name is nearest.
    pub nearest: Option<String>,
}

/// Keeps only what `targets` need: the instances of the named stages (or the named instance ids)
/// and everything upstream of them, like `dvc repro STAGE` or `make TARGET`. Stage declarations
/// stay (their instance lists shrink), so stage indices are unchanged; instance indices are
/// renumbered. An unknown target is an error that names the nearest stage.
pub fn restrict(mut p: Expanded, targets: &[String]) -> Result<Expanded, UnknownTarget> {
    if targets.is_empty() {
        return Ok(p);
    }
    let n = p.instances.len();
    let mut keep = vec![false; n];
    let mut stack = Vec::new();
    for t in targets {
        let matched: Vec<usize> = match p.stages.iter().find(|s| &s.name == t) {
            Some(stage) => stage.instances.clone(),
            None => p.instances.iter().position(|i| &i.id == t).into_iter().collect(),
        };
        if matched.is_empty() {
            let names = p.stages.iter().map(|s| s.name.as_str());
            return Err(UnknownTarget {
                target: t.clone(),
                pipeline: p.name.clone(),
                nearest: crate::util::suggest::nearest(t, names).map(|s| s.to_string()),
            });
        }
        stack.extend(matched);
    }
    while let Some(i) = stack.pop() {
        if !std::mem::replace(&mut keep[i], true) {
            stack.extend(p.instances[i].inputs.iter().flat_map(|b| b.sources.iter().map(|s| s.instance)));
        }
    }
    let mut new_index = vec![usize::MAX; n];
    let mut next = 0;
    for (i, k) in keep.iter().enumerate() {
        if *k {
            new_index[i] = next;
            next += 1;
        }
    }
    let instances = std::mem::take(&mut p.instances);
    p.instances = instances.into_iter().enumerate().filter(|(i, _)| keep[*i]).map(|(_, inst)| inst).collect();
    for inst in &mut p.instances {
        for b in &mut inst.inputs {
            for s in &mut b.sources {
                s.instance = new_index[s.instance];
            }
        }
    }
    for stage in &mut p.stages {
        stage.instances = stage.instances.iter().filter(|&&i| keep[i]).map(|&i| new_index[i]).collect();
    }
    if let Some(main) = &p.main
        && p.stages.iter().any(|s| &s.name == main && s.instances.is_empty())
    {
        // The summary printed at the end comes from the last target stage instead.
        p.main = None;
    }
    Ok(p)
}
