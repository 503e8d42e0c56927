//! Matrix expansion and validation: a merged pipeline document becomes a list of stage
//! instances with validated, fully-defaulted parameters and resolved input bindings.
//!
//! A stage's matrix axes come from its inputs (an instance exists for every upstream instance it
//! can read from, so exclusions propagate downstream), plus its own `foreach`, its stage-local
//! `matrix`, and any `${axis}` used in its parameters. A gather input collects every upstream
//! instance that agrees with this instance on the axes they share.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::error::{DslError, DslErrorKind};
use super::load::PipelineSource;
use super::value::{Loc, Node, SourceMap, Table, Value};
use crate::settings::Resources;
use crate::stages::Registry;
use crate::stages::kind::BoundInput;
use crate::stages::kind::{CheckEnv, Params, StageKind};
use crate::stages::spec::{InputSpec, ParamSpec};

/// Keys of a stage table that are not parameters of its kind.
pub const STAGE_KEYS: &[&str] =
    &["kind", "inputs", "foreach", "matrix", "publish", "description", "resources", "retries"];
const PIPELINE_KEYS: &[&str] = &["name", "description", "include", "main", "data_dirs"];

/// A pipeline ready for the graph: every stage instance, validated.
#[derive(Debug)]
pub struct Expanded {
    pub name: String,
    pub path: PathBuf,
    pub description: Option<String>,
    /// The stage whose summary output is printed at the end of a run.
    pub main: Option<String>,
    /// Extra data directories declared by the pipeline (resolved against its folder).
    pub data_dirs: Vec<PathBuf>,
    pub sources: SourceMap,
    pub stages: Vec<StageDecl>,
    pub instances: Vec<Instance>,
}

#[derive(Debug, Clone)]
pub struct StageDecl {
    pub name: String,
    pub kind: String,
    pub axes: Vec<String>,
    pub instances: Vec<usize>,
    pub publish: bool,
    pub loc: Loc,
    /// What its instances ask for (`resources = { … }`); not part of any key.
    pub resources: Resources,
    /// Retries after running out of memory or time (`retries = N`); not part of any key.
    pub retries: Option<u32>,
}

/// One concrete unit of work: a stage at one point of the matrix.
#[derive(Debug, Clone)]
pub struct Instance {
    /// `stage[axis=value,…]`, unique within the pipeline.
    pub id: String,
    pub stage: usize,
    pub kind: String,
    pub coords: Vec<(String, Json)>,
    pub params: Params,
    pub inputs: Vec<Binding>,
}

/// An input slot bound to upstream instances.
#[derive(Debug, Clone)]
pub struct Binding {
    pub name: String,
    pub gather: bool,
    pub sources: Vec<Source>,
}

/// One upstream instance (and optionally one of its outputs only).
#[derive(Debug, Clone)]
pub struct Source {
    pub instance: usize,
    pub output: Option<String>,
}

struct RawRef {
    stage: String,
    output: Option<String>,
    loc: Loc,
}

struct RawInput {
    name: String,
    gather: bool,
    refs: Vec<RawRef>,
    over: Option<Vec<String>>,
}

struct RawStage<'a> {
    name: String,
    node: &'a Node,
    kind: &'a dyn StageKind,
    kind_name: String,
    inputs: Vec<RawInput>,
    foreach: Vec<(String, Loc)>,
    local_axes: Vec<(String, Vec<Json>)>,
    publish: Option<bool>,
    resources: Resources,
    retries: Option<u32>,
    params: Table,
}

type Combo = Vec<(String, Json)>;

/// `[pipeline]`.
struct Header {
    name: String,
    description: Option<String>,
    main: Option<(String, Loc)>,
    data_dirs: Vec<PathBuf>,
}

/// `[matrix]` (with the stages' local axes once registered): the axes in declaration order and
/// the combinations it excludes or adds.
#[derive(Default)]
struct Matrix {
    axes: Vec<(String, Vec<Json>)>,
    excludes: Vec<Combo>,
    includes: Vec<Combo>,
}

impl Matrix {
    fn index(&self) -> HashMap<&str, usize> {
        self.axes.iter().enumerate().map(|(i, (n, _))| (n.as_str(), i)).collect()
    }
    fn names(&self) -> Vec<&str> {
        self.axes.iter().map(|(n, _)| n.as_str()).collect()
    }
}

/// What the expansion has built so far, stage by stage in dependency order.
struct Built {
    decls: Vec<StageDecl>,
    instances: Vec<Instance>,
    /// (stage, coordinates on that stage's axes) → instance
    lookup: HashMap<(usize, Vec<Json>), usize>,
}

/// The stages, their names' positions, and the environment `check`s see: what every step of
/// one stage's expansion reads.
struct Stages<'a> {
    sm: &'a SourceMap,
    raws: &'a [RawStage<'a>],
    index: HashMap<&'a str, usize>,
    env: &'a CheckEnv,
}

pub fn expand(src: PipelineSource, registry: &Registry, env: &CheckEnv) -> Result<Expanded, DslError> {
    let PipelineSource { path, sources, root } = src;
    let sm = &sources;
    let header = parse_header(sm, &root, &path)?;
    let mut matrix = parse_matrix(sm, &root)?;
    let raws = parse_stages(sm, &root, &path, registry)?;
    register_local_axes(sm, &raws, &mut matrix.axes)?;
    let stages =
        Stages { sm, raws: &raws, index: raws.iter().enumerate().map(|(i, r)| (r.name.as_str(), i)).collect(), env };
    let order = stage_order(&stages)?;
    let mut built =
        Built { decls: raws.iter().map(declaration).collect(), instances: Vec::new(), lookup: HashMap::new() };
    for &si in &order {
        expand_stage(&stages, si, &matrix, &mut built)?;
    }
    let main = check_main(&stages, header.main)?;
    drop(stages);
    Ok(Expanded {
        name: header.name,
        path,
        description: header.description,
        main,
        data_dirs: header.data_dirs,
        sources,
        stages: built.decls,
        instances: built.instances,
    })
}

fn parse_header(sm: &SourceMap, root: &Table, path: &Path) -> Result<Header, DslError> {
    let mut h = Header {
        name: path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "pipeline".into()),
        description: None,
        main: None,
        data_dirs: Vec::new(),
    };
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let Some(p) = root.get("pipeline") else { return Ok(h) };
    for (k, v) in expect_table(sm, p, "[pipeline]")? {
        match k.as_str() {
            "name" => h.name = expect_str(sm, v, "pipeline.name")?.to_string(),
            "description" => h.description = Some(expect_str(sm, v, "pipeline.description")?.to_string()),
            "main" => h.main = Some((expect_str(sm, v, "pipeline.main")?.to_string(), v.loc.clone())),
            "include" => {}
            "data_dirs" => {
                for d in expect_array(sm, v, "pipeline.data_dirs")? {
                    h.data_dirs.push(base_dir.join(expect_str(sm, d, "pipeline.data_dirs")?));
                }
            }
            _ => {
                return Err(DslError::at(
                    DslErrorKind::UnknownKey,
                    sm,
                    &v.key_loc,
                    format!("unknown key `{k}` in [pipeline]"),
                )
                .suggest(k, PIPELINE_KEYS.iter().copied()));
            }
        }
    }
    Ok(h)
}

fn parse_matrix(sm: &SourceMap, root: &Table) -> Result<Matrix, DslError> {
    let mut m = Matrix::default();
    let Some(node) = root.get("matrix") else { return Ok(m) };
    for (k, v) in expect_table(sm, node, "[matrix]")? {
        match k.as_str() {
            "exclude" | "include" => {
                let mut combos = Vec::new();
                for entry in expect_array(sm, v, &format!("matrix.{k}"))? {
                    let t = expect_table(sm, entry, &format!("an entry of matrix.{k}"))?;
                    combos.push(t.iter().map(|(a, x)| (a.clone(), x.to_json())).collect::<Combo>());
                }
                if k == "exclude" { m.excludes = combos } else { m.includes = combos }
            }
            _ => m.axes.push((k.clone(), axis_values(sm, v, k)?)),
        }
    }
    Ok(m)
}

/// `[stages.*]`, each read against its kind: inputs, axes, resources and its parameters (not
/// yet validated).
fn parse_stages<'a>(
    sm: &SourceMap,
    root: &'a Table,
    path: &Path,
    registry: &'a Registry,
) -> Result<Vec<RawStage<'a>>, DslError> {
    let stages_node = root.get("stages").ok_or_else(|| {
        DslError::general(DslErrorKind::MissingKey, format!("{}: the pipeline defines no [stages]", path.display()))
    })?;
    let stage_table = expect_table(sm, stages_node, "[stages]")?;
    stage_table.iter().map(|(sname, node)| parse_stage(sm, sname, node, registry)).collect()
}

fn parse_stage<'a>(
    sm: &SourceMap,
    sname: &str,
    node: &'a Node,
    registry: &'a Registry,
) -> Result<RawStage<'a>, DslError> {
    let err = |kind, loc: &Loc, msg: String| DslError::at(kind, sm, loc, msg);
    if sname.contains('.') || sname.contains('[') {
        return Err(err(
            DslErrorKind::Invalid,
            &node.key_loc,
            format!("stage name `{sname}` may not contain `.` or `[`"),
        ));
    }
    let t = expect_table(sm, node, &format!("stage `{sname}`"))?;
    let kind_node = t.get("kind").ok_or_else(|| {
        err(DslErrorKind::MissingKey, &node.key_loc, format!("stage `{sname}` has no `kind`"))
            .with_help(format!("known kinds: {}", registry.names().join(", ")))
    })?;
    let kind_name = expect_str(sm, kind_node, "kind")?;
    let kind = registry.get(kind_name).ok_or_else(|| {
        err(DslErrorKind::UnknownKind, &kind_node.loc, format!("unknown stage kind `{kind_name}` in stage `{sname}`"))
            .suggest(kind_name, registry.names())
    })?;
    let mut raw = RawStage {
        name: sname.to_string(),
        node,
        kind,
        kind_name: kind_name.to_string(),
        inputs: Vec::new(),
        foreach: Vec::new(),
        local_axes: Vec::new(),
        publish: None,
        resources: Resources::default(),
        retries: None,
        params: Table::new(),
    };
    for (k, v) in t {
        read_stage_key(sm, &mut raw, k, v)?;
    }
    for spec in kind.inputs() {
        if spec.required && !raw.inputs.iter().any(|i| i.name == spec.name) {
            return Err(err(
                DslErrorKind::MissingKey,
                &node.key_loc,
                format!("stage `{sname}` ({kind_name}) needs input `{}`: {}", spec.name, spec.doc),
            )
            .with_help(format!("add `inputs = {{ {} = \"<stage>\" }}`", spec.name)));
        }
    }
    Ok(raw)
}

/// One key of a stage's table: one of [`STAGE_KEYS`], or a parameter of its kind.
fn read_stage_key(sm: &SourceMap, raw: &mut RawStage, k: &str, v: &Node) -> Result<(), DslError> {
    let sname = raw.name.clone();
    match k {
        "kind" | "description" => {}
        "publish" => match v.value {
            Value::Bool(b) => raw.publish = Some(b),
            _ => return Err(type_err(sm, v, "publish", "a boolean")),
        },
        "foreach" => {
            for a in expect_array(sm, v, "foreach")? {
                raw.foreach.push((expect_str(sm, a, "foreach")?.to_string(), a.loc.clone()));
            }
        }
        "matrix" => {
            for (a, vals) in expect_table(sm, v, &format!("stages.{sname}.matrix"))? {
                raw.local_axes.push((a.clone(), axis_values(sm, vals, a)?));
            }
        }
        "inputs" => raw.inputs = parse_inputs(sm, v, &sname, raw.kind)?,
        "resources" => {
            expect_table(sm, v, &format!("stages.{sname}.resources"))?;
            raw.resources = serde_json::from_value(v.to_json()).map_err(|e| {
                DslError::at(DslErrorKind::Invalid, sm, &v.loc, format!("stages.{sname}.resources: {e}"))
                    .with_help("resources = { cpus = 4, mem = \"8G\", time = \"2h\", gpus = 1 }")
            })?;
        }
        "retries" => match v.value {
            Value::Int(n) if n >= 0 => raw.retries = u32::try_from(n).ok(),
            _ => return Err(type_err(sm, v, "retries", "a non-negative integer")),
        },
        _ => {
            raw.params.insert(k.to_string(), v.clone());
        }
    }
    Ok(())
}

/// Stage-local axes become global ones (a downstream stage may fan over them too).
fn register_local_axes(sm: &SourceMap, raws: &[RawStage], axes: &mut Vec<(String, Vec<Json>)>) -> Result<(), DslError> {
    for r in raws {
        for (a, vals) in &r.local_axes {
            if axes.iter().any(|(n, _)| n == a) {
                let loc =
                    r.node.as_table().and_then(|t| t.get("matrix")).map(|m| m.key_loc.clone()).unwrap_or_default();
                return Err(DslError::at(
                    DslErrorKind::Invalid,
                    sm,
                    &loc,
                    format!("matrix axis `{a}` is defined twice"),
                ));
            }
            axes.push((a.clone(), vals.clone()));
        }
    }
    Ok(())
}

/// The stages in dependency order, after checking that every input names a stage (and an output
/// it has) and that there is no cycle.
fn stage_order(st: &Stages) -> Result<Vec<usize>, DslError> {
    let names: Vec<&str> = st.raws.iter().map(|r| r.name.as_str()).collect();
    let mut edges = Vec::new();
    for (i, r) in st.raws.iter().enumerate() {
        for rf in r.inputs.iter().flat_map(|inp| &inp.refs) {
            let Some(&j) = st.index.get(rf.stage.as_str()) else {
                return Err(DslError::at(
                    DslErrorKind::Reference,
                    st.sm,
                    &rf.loc,
                    format!("stage `{}` reads from `{}`, which is not a stage of this pipeline", r.name, rf.stage),
                )
                .suggest(&rf.stage, names.iter().copied()));
            };
            if let Some(o) = &rf.output {
                let outs = st.raws[j].kind.outputs();
                if !outs.iter().any(|s| s.name == o) {
                    return Err(DslError::at(
                        DslErrorKind::Reference,
                        st.sm,
                        &rf.loc,
                        format!("stage `{}` ({}) has no output `{o}`", rf.stage, st.raws[j].kind_name),
                    )
                    .suggest(o, outs.iter().map(|s| s.name)));
                }
            }
            edges.push((j, i));
        }
    }
    crate::graph::topo_order(names.len(), &edges).map_err(|cycle| {
        let path: Vec<&str> = cycle.iter().map(|&i| names[i]).collect();
        let first = &st.raws[cycle[0]];
        DslError::at(
            DslErrorKind::Cycle,
            st.sm,
            &first.node.key_loc,
            format!("dependency cycle: {}", path.join(" -> ")),
        )
    })
}

fn declaration(r: &RawStage) -> StageDecl {
    StageDecl {
        name: r.name.clone(),
        kind: r.kind_name.clone(),
        axes: Vec::new(),
        instances: Vec::new(),
        publish: r.publish.unwrap_or_else(|| r.kind.outputs().iter().any(|o| o.publish)),
        loc: r.node.key_loc.clone(),
        resources: r.resources,
        retries: r.retries,
    }
}

fn check_main(st: &Stages, main: Option<(String, Loc)>) -> Result<Option<String>, DslError> {
    let Some((m, loc)) = main else { return Ok(None) };
    if !st.index.contains_key(m.as_str()) {
        return Err(DslError::at(
            DslErrorKind::Reference,
            st.sm,
            &loc,
            format!("pipeline.main names `{m}`, which is not a stage"),
        )
        .suggest(&m, st.raws.iter().map(|r| r.name.as_str())));
    }
    Ok(Some(m))
}

/// One stage's instances: its axes (from its inputs, `foreach`, local matrix and `${…}`), the
/// matrix points it exists at, and for each its bound inputs and validated parameters.
fn expand_stage(st: &Stages, si: usize, matrix: &Matrix, built: &mut Built) -> Result<(), DslError> {
    let axis_index = matrix.index();
    let own = own_axes(st, &st.raws[si], matrix, &axis_index)?;
    let (mut combos, mut stage_axes) = upstream_combos(st, &st.raws[si], built)?;
    for a in &own {
        if stage_axes.insert(a.clone()) {
            let vals = &matrix.axes[axis_index[a.as_str()]].1;
            combos = combos
                .iter()
                .flat_map(|c| {
                    vals.iter().map(move |v| {
                        let mut c = c.clone();
                        c.push((a.clone(), v.clone()));
                        c
                    })
                })
                .collect();
        }
    }
    let mut ordered_axes: Vec<String> = stage_axes.into_iter().collect();
    ordered_axes.sort_by_key(|a| axis_index.get(a.as_str()).copied().unwrap_or(usize::MAX));
    let points = matrix_points(combos, &ordered_axes, matrix, &axis_index);
    built.decls[si].axes = ordered_axes;
    let specs = st.raws[si].kind.params();
    for coords in points {
        instantiate(st, si, &specs, coords, built)?;
    }
    Ok(())
}

/// The axes a stage adds itself: `foreach`, its local matrix, and those its `${…}` name.
fn own_axes(
    st: &Stages,
    r: &RawStage,
    matrix: &Matrix,
    axis_index: &HashMap<&str, usize>,
) -> Result<Vec<String>, DslError> {
    let axis_names = matrix.names();
    let mut used = BTreeSet::new();
    for v in r.params.values() {
        collect_interpolations(v, &mut used);
    }
    for spec in r.kind.params() {
        if let (false, Some(Json::String(s))) = (r.params.contains_key(spec.name), &spec.default) {
            scan_template(s, &mut used);
        }
    }
    let mut own: Vec<String> = Vec::new();
    for (a, loc) in &r.foreach {
        if !axis_index.contains_key(a.as_str()) {
            return Err(DslError::at(
                DslErrorKind::Reference,
                st.sm,
                loc,
                format!("unknown matrix axis `{a}` in stage `{}`", r.name),
            )
            .suggest(a, axis_names.iter().copied()));
        }
        own.push(a.clone());
    }
    own.extend(r.local_axes.iter().map(|(a, _)| a.clone()));
    for u in used.iter().filter(|u| *u != "stage") {
        if !axis_index.contains_key(u.as_str()) {
            let loc = find_template_loc(&r.params, u).unwrap_or_else(|| r.node.key_loc.clone());
            return Err(DslError::at(
                DslErrorKind::Reference,
                st.sm,
                &loc,
                format!("`${{{u}}}` in stage `{}` is not a matrix axis", r.name),
            )
            .suggest(u, axis_names.iter().copied().chain(["stage"])));
        }
        own.push(u.clone());
    }
    Ok(own)
}

/// The join of the upstream instances' coordinates a stage inherits (all of a plain input's
/// axes; a gather's minus those it gathers over), and those axes.
fn upstream_combos(st: &Stages, r: &RawStage, built: &Built) -> Result<(Vec<Combo>, BTreeSet<String>), DslError> {
    let mut combos: Vec<Combo> = vec![Vec::new()];
    let mut stage_axes: BTreeSet<String> = BTreeSet::new();
    for inp in &r.inputs {
        for rf in &inp.refs {
            let ui = st.index[rf.stage.as_str()];
            let up_axes = &built.decls[ui].axes;
            let keep: Vec<String> = match (inp.gather, &inp.over) {
                (false, _) => up_axes.clone(),
                (true, None) => Vec::new(),
                (true, Some(over)) => {
                    if let Some(o) = over.iter().find(|o| !up_axes.contains(o)) {
                        return Err(DslError::at(
                            DslErrorKind::Reference,
                            st.sm,
                            &rf.loc,
                            format!(
                                "gather over `{o}`: stage `{}` has no axis `{o}` (its axes: {})",
                                rf.stage,
                                fmt_list(up_axes)
                            ),
                        ));
                    }
                    up_axes.iter().filter(|a| !over.contains(a)).cloned().collect()
                }
            };
            if keep.is_empty() {
                continue;
            }
            let mut proj: Vec<Combo> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for &ii in &built.decls[ui].instances {
                let c: Combo = built.instances[ii].coords.iter().filter(|(a, _)| keep.contains(a)).cloned().collect();
                if seen.insert(combo_key(&c)) {
                    proj.push(c);
                }
            }
            combos = join(&combos, &proj);
            stage_axes.extend(keep);
        }
    }
    Ok((combos, stage_axes))
}

/// The matrix points a stage exists at, in a deterministic order (by axis declaration order,
/// then by each value's position in its axis): `exclude`d ones dropped, `include`d ones added.
fn matrix_points(
    mut combos: Vec<Combo>,
    ordered_axes: &[String],
    matrix: &Matrix,
    axis_index: &HashMap<&str, usize>,
) -> Vec<Combo> {
    combos.retain(|c| !matrix.excludes.iter().any(|ex| matches_entry(c, ex)));
    for inc in &matrix.includes {
        let keys: BTreeSet<&str> = inc.iter().map(|(a, _)| a.as_str()).collect();
        let mine: BTreeSet<&str> = ordered_axes.iter().map(String::as_str).collect();
        if !keys.is_empty() && keys == mine && !combos.iter().any(|c| matches_entry(c, inc)) {
            combos.push(inc.clone());
        }
    }
    let rank = |a: &str, v: &Json| -> (usize, String) {
        let pos = axis_index.get(a).and_then(|&i| matrix.axes[i].1.iter().position(|x| x == v)).unwrap_or(usize::MAX);
        (pos, v.to_string())
    };
    let mut sorted: Vec<(Vec<(usize, String)>, Combo)> = combos
        .into_iter()
        .map(|c| {
            let mut c: Combo = ordered_axes.iter().filter_map(|a| c.iter().find(|(x, _)| x == a).cloned()).collect();
            c.dedup_by(|a, b| a.0 == b.0);
            (c.iter().map(|(a, v)| rank(a, v)).collect(), c)
        })
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted.dedup_by(|a, b| a.1 == b.1);
    sorted.into_iter().map(|(_, c)| c).collect()
}

/// One instance at `coords`, unless an upstream point it reads was excluded: its inputs bound
/// to upstream instances, its parameters validated.
fn instantiate(st: &Stages, si: usize, specs: &[ParamSpec], coords: Combo, built: &mut Built) -> Result<(), DslError> {
    let r = &st.raws[si];
    let Some(bindings) = bind_inputs(st, r, &coords, built) else { return Ok(()) };
    let params = build_params(st.sm, r, specs, &coords, st.env)?;
    check_bindings(st.sm, r, &params, &bindings, &built.instances, st.raws)?;
    let ii = built.instances.len();
    built.lookup.insert((si, coords.iter().map(|(_, v)| v.clone()).collect()), ii);
    built.decls[si].instances.push(ii);
    let id = instance_id(&r.name, &coords);
    built.instances.push(Instance { id, stage: si, kind: r.kind_name.clone(), coords, params, inputs: bindings });
    Ok(())
}

/// The upstream instances each input reads at `coords`; `None` when an upstream point was
/// excluded (and so is this one).
fn bind_inputs(st: &Stages, r: &RawStage, coords: &Combo, built: &Built) -> Option<Vec<Binding>> {
    let mut bindings = Vec::with_capacity(r.inputs.len());
    for inp in &r.inputs {
        let mut sources = Vec::new();
        for rf in &inp.refs {
            let ui = st.index[rf.stage.as_str()];
            if inp.gather {
                for &ii in &built.decls[ui].instances {
                    let agrees = built.instances[ii]
                        .coords
                        .iter()
                        .all(|(a, v)| coords.iter().find(|(x, _)| x == a).is_none_or(|(_, w)| w == v));
                    if agrees {
                        sources.push(Source { instance: ii, output: rf.output.clone() });
                    }
                }
            } else {
                let key: Vec<Json> = built.decls[ui]
                    .axes
                    .iter()
                    .map(|a| coords.iter().find(|(x, _)| x == a).map(|(_, v)| v.clone()).unwrap_or(Json::Null))
                    .collect();
                let &ii = built.lookup.get(&(ui, key))?;
                sources.push(Source { instance: ii, output: rf.output.clone() });
            }
        }
        bindings.push(Binding { name: inp.name.clone(), gather: inp.gather, sources });
    }
    Some(bindings)
}

fn fmt_list(v: &[String]) -> String {
    if v.is_empty() { "none".into() } else { v.join(", ") }
}

pub fn instance_id(stage: &str, coords: &[(String, Json)]) -> String {
    if coords.is_empty() {
        return stage.to_string();
    }
    let parts: Vec<String> = coords.iter().map(|(a, v)| format!("{a}={}", scalar(v))).collect();
    format!("{stage}[{}]", parts.join(","))
}

/// A matrix value as written in labels and interpolations.
pub fn scalar(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn combo_key(c: &Combo) -> String {
    serde_json::to_string(c).unwrap_or_default()
}

fn matches_entry(c: &Combo, entry: &Combo) -> bool {
    !entry.is_empty() && entry.iter().all(|(a, v)| c.iter().any(|(x, w)| x == a && w == v))
}

/// Natural join of two coordinate sets on their shared axes.
fn join(left: &[Combo], right: &[Combo]) -> Vec<Combo> {
    let mut out = Vec::new();
    for l in left {
        for r in right {
            let ok = r.iter().all(|(a, v)| l.iter().find(|(x, _)| x == a).is_none_or(|(_, w)| w == v));
            if ok {
                let mut c = l.clone();
                for (a, v) in r {
                    if !c.iter().any(|(x, _)| x == a) {
                        c.push((a.clone(), v.clone()));
                    }
                }
                out.push(c);
            }
        }
    }
    out
}

fn parse_inputs(sm: &SourceMap, v: &Node, stage: &str, kind: &dyn StageKind) -> Result<Vec<RawInput>, DslError> {
    let specs = kind.inputs();
    let mut out = Vec::new();
    // a kind that names its own inputs takes any name: one stage reads one instance, an array gathers
    let open = InputSpec { name: "", required: false, gather: true, doc: "" };
    for (name, val) in expect_table(sm, v, &format!("stages.{stage}.inputs"))? {
        let found = specs.iter().find(|s| s.name == name).or(kind.accepts_any_input().then_some(&open));
        let Some(spec) = found else {
            let msg = if specs.is_empty() {
                format!("stage `{stage}` ({}) takes no inputs, but names `{name}`", kind.name())
            } else {
                format!(
                    "unknown input `{name}` for stage `{stage}` ({}; its inputs: {})",
                    kind.name(),
                    specs.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
                )
            };
            return Err(DslError::at(DslErrorKind::UnknownKey, sm, &val.key_loc, msg)
                .suggest(name, specs.iter().map(|s| s.name)));
        };
        let parse_ref = |n: &Node| -> Result<RawRef, DslError> {
            let s = expect_str(sm, n, "an input reference")?;
            let (st, out) = match s.split_once('.') {
                Some((a, b)) => (a.to_string(), Some(b.to_string())),
                None => (s.to_string(), None),
            };
            Ok(RawRef { stage: st, output: out, loc: n.loc.clone() })
        };
        let (gather, refs, over) = match &val.value {
            Value::Str(_) => (false, vec![parse_ref(val)?], None),
            Value::Array(items) => (true, items.iter().map(parse_ref).collect::<Result<_, _>>()?, None),
            Value::Table(t) => {
                let mut refs = Vec::new();
                let mut over = None;
                for (k, x) in t {
                    match k.as_str() {
                        "gather" => match &x.value {
                            Value::Str(_) => refs.push(parse_ref(x)?),
                            Value::Array(items) => {
                                for i in items {
                                    refs.push(parse_ref(i)?);
                                }
                            }
                            _ => return Err(type_err(sm, x, "gather", "a stage name or an array of them")),
                        },
                        "over" => {
                            let mut o = Vec::new();
                            for a in expect_array(sm, x, "over")? {
                                o.push(expect_str(sm, a, "over")?.to_string());
                            }
                            over = Some(o);
                        }
                        _ => {
                            return Err(DslError::at(
                                DslErrorKind::UnknownKey,
                                sm,
                                &x.key_loc,
                                format!("unknown key `{k}` in input `{name}`"),
                            )
                            .suggest(k, ["gather", "over"]));
                        }
                    }
                }
                if refs.is_empty() {
                    return Err(DslError::at(
                        DslErrorKind::MissingKey,
                        sm,
                        &val.loc,
                        format!("input `{name}` needs `gather = [\"stage\", …]`"),
                    ));
                }
                (true, refs, over)
            }
            _ => {
                return Err(type_err(
                    sm,
                    val,
                    name,
                    "a stage name, an array of stage names, or { gather = …, over = … }",
                ));
            }
        };
        if gather && !spec.gather && !kind.accepts_any_input() {
            return Err(DslError::at(
                DslErrorKind::Type,
                sm,
                &val.loc,
                format!(
                    "input `{name}` of stage `{stage}` reads a single upstream instance; use a stage name, not a gather"
                ),
            ));
        }
        if !gather && spec.gather && !kind.accepts_any_input() {
            // A plain name on a gather slot gathers that one stage.
            out.push(RawInput { name: name.clone(), gather: true, refs, over });
            continue;
        }
        out.push(RawInput { name: name.clone(), gather, refs, over });
    }
    Ok(out)
}

fn build_params(
    sm: &SourceMap,
    r: &RawStage,
    specs: &[ParamSpec],
    coords: &[(String, Json)],
    env: &CheckEnv,
) -> Result<Params, DslError> {
    let mut map = serde_json::Map::new();
    for (k, node) in &r.params {
        let Some(spec) = specs.iter().find(|s| s.name == k) else {
            let mut candidates: Vec<&str> = specs.iter().map(|s| s.name).collect();
            candidates.extend(STAGE_KEYS);
            return Err(DslError::at(
                DslErrorKind::UnknownKey,
                sm,
                &node.key_loc,
                format!("unknown parameter `{k}` for stage `{}` (kind `{}`)", r.name, r.kind_name),
            )
            .suggest(k, candidates));
        };
        let v = interpolate(node, &r.name, coords);
        let v = spec.ty.coerce(&v).map_err(|m| {
            DslError::at(DslErrorKind::Type, sm, &node.loc, format!("parameter `{k}` of stage `{}`: {m}", r.name))
        })?;
        map.insert(k.clone(), v);
    }
    for spec in specs {
        if map.contains_key(spec.name) {
            continue;
        }
        match &spec.default {
            Some(d) => {
                let v = match d {
                    Json::String(s) => interpolate_str(s, &r.name, coords),
                    other => other.clone(),
                };
                map.insert(spec.name.to_string(), spec.ty.coerce(&v).unwrap_or(v));
            }
            None if spec.optional => {}
            None => {
                return Err(DslError::at(
                    DslErrorKind::MissingKey,
                    sm,
                    &r.node.key_loc,
                    format!("stage `{}` ({}) needs parameter `{}`: {}", r.name, r.kind_name, spec.name, spec.doc),
                ));
            }
        }
    }
    let mut params = Params(map);
    r.kind
        .canonicalize(&mut params)
        .map_err(|m| DslError::at(DslErrorKind::Invalid, sm, &r.node.key_loc, format!("stage `{}`: {m}", r.name)))?;
    r.kind.check(&params, env).map_err(|e| {
        let loc =
            e.param.and_then(|p| r.params.get(p)).map(|n| n.loc.clone()).unwrap_or_else(|| r.node.key_loc.clone());
        DslError::at(DslErrorKind::Reference, sm, &loc, format!("stage `{}`: {}", r.name, e.message))
    })?;
    Ok(params)
}

/// The kind's checks of its parameters against what its inputs will hold (e.g. a command's
/// `{inputs.NAME.FILE}` placeholders), located at the parameter they are about.
fn check_bindings(
    sm: &SourceMap,
    r: &RawStage,
    params: &Params,
    bindings: &[Binding],
    instances: &[Instance],
    raws: &[RawStage],
) -> Result<(), DslError> {
    let bound: Vec<BoundInput> = bindings
        .iter()
        .map(|b| {
            let mut outputs: Option<Vec<String>> = None;
            for s in &b.sources {
                let up = &instances[s.instance];
                let names = match &s.output {
                    Some(o) => vec![o.clone()],
                    None => raws[up.stage].kind.output_names(&up.params),
                };
                outputs = Some(match outputs {
                    None => names,
                    Some(prev) => prev.into_iter().filter(|n| names.contains(n)).collect(),
                });
            }
            BoundInput { name: b.name.clone(), gather: b.gather, outputs: outputs.unwrap_or_default() }
        })
        .collect();
    r.kind.check_inputs(params, &bound).map_err(|e| {
        let loc =
            e.param.and_then(|p| r.params.get(p)).map(|n| n.loc.clone()).unwrap_or_else(|| r.node.key_loc.clone());
        DslError::at(DslErrorKind::Reference, sm, &loc, format!("stage `{}`: {}", r.name, e.message))
    })
}

fn interpolate(node: &Node, stage: &str, coords: &[(String, Json)]) -> Json {
    match &node.value {
        Value::Str(s) => interpolate_str(s, stage, coords),
        Value::Array(a) => Json::Array(a.iter().map(|n| interpolate(n, stage, coords)).collect()),
        Value::Table(t) => Json::Object(t.iter().map(|(k, v)| (k.clone(), interpolate(v, stage, coords))).collect()),
        _ => node.to_json(),
    }
}

/// How an interpolation opens and closes (`${axis}`), named once so that the functions below
/// read without brace-heavy literals.
const OPEN: &str = "${";
const CLOSE: char = '}';

/// `"${cells}"` alone keeps the axis value's type; inside a longer string it is spliced as text.
fn interpolate_str(s: &str, stage: &str, coords: &[(String, Json)]) -> Json {
    if !s.contains(OPEN) {
        return Json::String(s.to_string());
    }
    let lookup = |name: &str| -> Option<Json> {
        if name == "stage" {
            return Some(Json::String(stage.to_string()));
        }
        coords.iter().find(|(a, _)| a == name).map(|(_, v)| v.clone())
    };
    if let Some(inner) = s.strip_prefix(OPEN).and_then(|x| x.strip_suffix(CLOSE))
        && !inner.contains(OPEN)
        && !inner.contains(CLOSE)
        && let Some(v) = lookup(inner)
    {
        return v;
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        match rest[start + 2..].find(CLOSE) {
            Some(end) => {
                let name = &rest[start + 2..start + 2 + end];
                match lookup(name) {
                    Some(v) => out.push_str(&scalar(&v)),
                    None => out.push_str(&rest[start..start + 3 + end]),
                }
                rest = &rest[start + 3 + end..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    Json::String(out)
}

fn scan_template(s: &str, used: &mut BTreeSet<String>) {
    let mut rest = s;
    while let Some(start) = rest.find(OPEN) {
        match rest[start + 2..].find(CLOSE) {
            Some(end) => {
                used.insert(rest[start + 2..start + 2 + end].to_string());
                rest = &rest[start + 3 + end..];
            }
            None => break,
        }
    }
}

fn collect_interpolations(n: &Node, used: &mut BTreeSet<String>) {
    match &n.value {
        Value::Str(s) => scan_template(s, used),
        Value::Array(a) => a.iter().for_each(|x| collect_interpolations(x, used)),
        Value::Table(t) => t.values().for_each(|x| collect_interpolations(x, used)),
        _ => {}
    }
}

fn find_template_loc(t: &Table, name: &str) -> Option<Loc> {
    let pat = format!("${{{name}}}");
    fn walk(n: &Node, pat: &str) -> Option<Loc> {
        match &n.value {
            Value::Str(s) if s.contains(pat) => Some(n.loc.clone()),
            Value::Array(a) => a.iter().find_map(|x| walk(x, pat)),
            Value::Table(t) => t.values().find_map(|x| walk(x, pat)),
            _ => None,
        }
    }
    t.values().find_map(|n| walk(n, &pat))
}

/// The most values one `range` axis may expand to (a typo like `[0, 30000000]` fails fast).
const MAX_RANGE_VALUES: i64 = 100_000;

/// `{ range = [start, stop] }` or `{ range = [start, stop, step] }`: Python's `range`, so
/// `[0, 30]` is the 30 resamples 0..=29.
fn range_values(sm: &SourceMap, v: &Node, t: &Table, axis: &str) -> Result<Vec<Json>, DslError> {
    let form = "`{ range = [start, stop] }` or `{ range = [start, stop, step] }`";
    if let Some((k, x)) = t.iter().find(|(k, _)| k.as_str() != "range") {
        return Err(DslError::at(
            DslErrorKind::UnknownKey,
            sm,
            &x.key_loc,
            format!("unknown key `{k}` in matrix axis `{axis}`: an axis table is {form}"),
        )
        .suggest(k, ["range"]));
    }
    let Some(r) = t.get("range") else {
        return Err(DslError::at(
            DslErrorKind::MissingKey,
            sm,
            &v.loc,
            format!("matrix axis `{axis}`: expected an array of values or {form}"),
        ));
    };
    let items = expect_array(sm, r, &format!("matrix axis `{axis}`: range"))?;
    let mut ints = Vec::with_capacity(3);
    for i in items {
        match i.value {
            Value::Int(x) => ints.push(x),
            _ => return Err(type_err(sm, i, &format!("matrix axis `{axis}`: a range bound"), "an integer")),
        }
    }
    let bad = |msg: String| DslError::at(DslErrorKind::Invalid, sm, &r.loc, format!("matrix axis `{axis}`: {msg}"));
    let (start, stop, step) = match ints[..] {
        [a, b] => (a, b, 1),
        [a, b, c] => (a, b, c),
        _ => return Err(bad(format!("range needs 2 or 3 integers, found {}", ints.len())).with_help(form)),
    };
    if step == 0 {
        return Err(bad("the range step may not be 0".into()));
    }
    let count = if step > 0 {
        (stop.saturating_sub(start).max(0) as i128 + step as i128 - 1) / step as i128
    } else {
        (start.saturating_sub(stop).max(0) as i128 + (-(step as i128)) - 1) / -(step as i128)
    };
    if count == 0 {
        return Err(bad(format!(
            "range [{start}, {stop}{}] is empty (the stop is excluded, as in Python: [0, 30] is 0..=29)",
            if step == 1 { String::new() } else { format!(", {step}") }
        )));
    }
    if count > MAX_RANGE_VALUES as i128 {
        return Err(bad(format!("range has {count} values; at most {MAX_RANGE_VALUES} are allowed")));
    }
    Ok((0..count as i64).map(|i| Json::from(start + i * step)).collect())
}

fn axis_values(sm: &SourceMap, v: &Node, axis: &str) -> Result<Vec<Json>, DslError> {
    if let Value::Table(t) = &v.value {
        return range_values(sm, v, t, axis);
    }
    let items = v.as_array().ok_or_else(|| {
        type_err(sm, v, &format!("matrix axis `{axis}`"), "an array of values or `{ range = [start, stop] }`")
    })?;
    if items.is_empty() {
        return Err(DslError::at(DslErrorKind::Invalid, sm, &v.loc, format!("matrix axis `{axis}` has no values")));
    }
    let mut out = Vec::new();
    for i in items {
        match i.value {
            Value::Array(_) | Value::Table(_) => {
                return Err(type_err(sm, i, &format!("a value of axis `{axis}`"), "a string, number or boolean"));
            }
            _ => out.push(i.to_json()),
        }
    }
    Ok(out)
}

fn type_err(sm: &SourceMap, v: &Node, what: &str, expected: &str) -> DslError {
    DslError::at(DslErrorKind::Type, sm, &v.loc, format!("{what}: expected {expected}, found {}", v.value.type_name()))
}

fn expect_table<'a>(sm: &SourceMap, v: &'a Node, what: &str) -> Result<&'a Table, DslError> {
    v.as_table().ok_or_else(|| type_err(sm, v, what, "a table"))
}

fn expect_array<'a>(sm: &SourceMap, v: &'a Node, what: &str) -> Result<&'a [Node], DslError> {
    v.as_array().ok_or_else(|| type_err(sm, v, what, "an array"))
}

fn expect_str<'a>(sm: &SourceMap, v: &'a Node, what: &str) -> Result<&'a str, DslError> {
    v.as_str().ok_or_else(|| type_err(sm, v, what, "a string"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_string_interpolation_keeps_type() {
        let coords = vec![("cells".to_string(), Json::from(8))];
        assert_eq!(interpolate_str("${cells}", "t", &coords), Json::from(8));
        assert_eq!(interpolate_str("LSTM-${cells}", "t", &coords), Json::from("LSTM-8"));
        assert_eq!(interpolate_str("${stage}", "train", &coords), Json::from("train"));
    }

    #[test]
    fn join_is_natural() {
        let a = vec![vec![("d".to_string(), Json::from("x"))], vec![("d".to_string(), Json::from("y"))]];
        let b = vec![
            vec![("d".to_string(), Json::from("x")), ("m".to_string(), Json::from(1))],
            vec![("d".to_string(), Json::from("x")), ("m".to_string(), Json::from(2))],
        ];
        assert_eq!(join(&a, &b).len(), 2);
    }
}
