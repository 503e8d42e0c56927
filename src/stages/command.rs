//! `command`: runs any program (a Python, PyTorch, aeon or R method) as a stage, under the same
//! cache, matrix, executors and statistics as the built-in kinds. The program reads the files
//! tscpipe writes for its inputs and writes into `{out}`; with `produces = "predictions"` what it
//! writes becomes the `predictions.json` every classifier emits. The domain code is in
//! [`crate::command`]; this file turns parameters into its calls.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value as Json;

use super::artifact::{DATASET_FILE, PREDICTIONS_FILE, Predictions, TIMING_FILE, Timing, read_dataset, write_json};
use super::kind::{
    BoundInput, CheckError, Declared, InputArtifact, Params, RunEnv, StageContext, StageError, TimeClass, TypedStage,
};
use super::spec::{InputSpec, OutputSpec};
use crate::command::child::{self, ChildSpec, Ended};
use crate::command::pyenv::{self, PythonRequest};
use crate::command::template::{self, Piece};
use crate::command::{CommandError, probe, results};
use crate::data::export::{DataFormat, write_split};
use crate::device::Device;
use crate::settings::Memory;

const PRODUCES: &[&str] = &["files", "predictions"];
/// The folder output holding the files a command lists in `outputs`.
pub const OUT_DIR: &str = "out";
/// The command's stdout and stderr (volatile: kept, never part of what dependents see).
pub const LOG_FILE: &str = "log.txt";

/// A command: an argv (no shell) or one line for `sh -c`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RunSpec {
    Argv(Vec<String>),
    Shell(String),
}

/// A managed Python environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PythonParams {
    /// A requirements file, relative to the pipeline file.
    pub requirements: String,
    /// The interpreter that creates the environment.
    #[serde(default = "default_interpreter")]
    pub interpreter: String,
}

fn default_interpreter() -> String {
    "python3".into()
}

crate::stage_params! {
    /// Parameters of `command`.
    pub struct CommandParams {
        /// the program and its arguments (an array: run as it is, no shell), or one string run by `sh -c`; placeholders `{inputs.NAME.train}`, `{inputs.NAME.test}`, `{inputs.NAME.FILE}`, `{out}`, `{device}`
        pub run: RunSpec [StrOrList],
        /// files and folders (relative to the pipeline file) whose content enters the key: the script and what it imports
        pub deps: Vec<String> [List(Str) = Json::Array(Vec::new())],
        /// "files": the files listed in `outputs`; "predictions": a classifier's predictions (`{out}/predictions.csv` or a tsml-eval results file), read into `predictions.json`
        pub produces: String [Enum(PRODUCES) = "files"],
        /// files the command must leave in `{out}`; each becomes an output (`out/NAME`, `{inputs.STAGE.NAME}` downstream)
        pub outputs: Vec<String> [List(Str) = Json::Array(Vec::new())],
        /// how dataset inputs are written: "ts" (aeon, sktime; multivariate too), "tsv" (UCR, univariate), "npy" (a folder with X.npy, float64 (n, channels, length), and y.npy)
        pub data_format: String [Enum(DataFormat::NAMES) = "ts"],
        /// environment variables the command gets (they enter the key; nothing else is passed but PATH, HOME, USER, LOGNAME, LANG, LC_ALL, TZ)
        pub env: BTreeMap<String, String> [Table = Json::Object(Default::default())],
        /// a command whose stdout enters the key (e.g. a library's version), run once per run
        pub env_key: Option<Vec<String>> [List(Str), optional],
        /// a managed Python environment, `{ requirements = "FILE", interpreter = "python3" }`: created once under the cache folder, its `pip freeze` enters the key, `python`/`python3` in `run` is its interpreter
        pub python: Option<PythonParams> [Table, optional],
        /// queue on the run's accelerator, fill `{device}` and set CUDA_VISIBLE_DEVICES for a CUDA device
        pub accelerator: bool [Bool = false],
        /// the method's name in predictions, tables and exports
        pub label: String [Str = "${stage}"],
    }
}

pub struct Command;

impl TypedStage for Command {
    type Params = CommandParams;
    fn name(&self) -> &'static str {
        "command"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Runs a program (Python, R, anything) on its inputs' files; its outputs, or its predictions, are cached like any stage's"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        Vec::new()
    }
    fn accepts_any_input(&self) -> bool {
        true
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(OUT_DIR, "the files listed in `outputs`, as `out/NAME`").optional(),
            OutputSpec::file(PREDICTIONS_FILE, "test predictions (produces = \"predictions\")").optional(),
            super::artifact::timing_output(),
            OutputSpec::file(LOG_FILE, "the command line, its stdout and its stderr").volatile(),
        ]
    }
    fn output_names(&self, p: &CommandParams) -> Option<Vec<String>> {
        let mut names: Vec<String> = p.outputs.iter().map(|o| format!("{OUT_DIR}/{o}")).collect();
        if p.produces == "predictions" {
            names.extend([PREDICTIONS_FILE.to_string(), TIMING_FILE.to_string()]);
        }
        names.push(LOG_FILE.into());
        Some(names)
    }
    fn wants_accelerator(&self, p: &CommandParams) -> bool {
        p.accelerator
    }
    fn resources(&self, _p: &CommandParams) -> Declared {
        Declared { threads: None, mem: Some(Memory::gib(4)), time: Some(TimeClass::Long) }
    }
    fn env_key(&self, p: &CommandParams, device: &Device) -> Option<String> {
        // the kind of device (not its index) can change what an accelerated command computes
        p.accelerator.then(|| {
            match device {
                Device::Cpu => "device=cpu",
                Device::Cuda(_) => "device=cuda",
                Device::Wgpu(_) => "device=wgpu",
            }
            .to_string()
        })
    }
    fn canonicalize(&self, p: &mut Params) -> Result<(), StageError> {
        // `python = { requirements = … }` and the same with the default interpreter written out
        // are one environment, hence one key
        if let Some(Json::Object(t)) = p.0.get_mut(crate::param_name!(CommandParams, python)) {
            t.entry("interpreter").or_insert_with(|| default_interpreter().into());
        }
        Ok(())
    }
    fn source_files(&self, p: &CommandParams, env: &RunEnv) -> Result<Vec<PathBuf>, StageError> {
        let mut files: Vec<PathBuf> = p.deps.iter().map(|d| env.pipeline_dir.join(d)).collect();
        if let Some(py) = &p.python {
            files.push(env.pipeline_dir.join(&py.requirements));
        }
        Ok(files)
    }
    fn check(&self, p: &CommandParams, env: &RunEnv) -> Result<(), CheckError> {
        check_params(p, env)
    }
    fn check_inputs(&self, p: &CommandParams, inputs: &[BoundInput]) -> Result<(), CheckError> {
        check_placeholders(p, inputs)
    }
    fn key_environment(&self, p: &CommandParams, env: &RunEnv) -> Result<Option<String>, StageError> {
        let prepared = prepare_environment(p, env)?;
        let mut parts = Vec::new();
        if let Some(py) = &prepared.python {
            parts.push(format!("pip freeze:\n{}", py.freeze.trim()));
        }
        if let Some(argv) = &p.env_key {
            let argv = prepared.interpreter_argv(argv);
            parts.push(format!("env_key: {}", probe::output(&argv, &working_dir(env), &prepared.vars)?));
        }
        Ok((!parts.is_empty()).then(|| parts.join("\n")))
    }
    fn notes(&self, p: &CommandParams) -> Vec<String> {
        match &p.run {
            RunSpec::Shell(_) => {
                vec!["`run` is one string: it runs under `sh -c` (an array runs without a shell)".into()]
            }
            RunSpec::Argv(_) => Vec::new(),
        }
    }
    fn run(&self, ctx: &StageContext<'_>, p: &CommandParams) -> Result<(), StageError> {
        let work = Workspace::create(ctx.checkpoint_dir)?;
        let prepared = prepare_environment(p, ctx.env)?;
        let data = DataFiles::write(ctx, p, &work)?;
        let argv = prepared.interpreter_argv(&resolve_argv(ctx, p, &data, &work)?);
        let spec = ChildSpec {
            cwd: working_dir(ctx.env),
            env: child_vars(&prepared, &work, ctx.device, p.accelerator),
            stdout: work.root.join("stdout.txt"),
            stderr: work.root.join("stderr.txt"),
            time_limit: ctx.time_limit,
            argv,
        };
        ctx.report(None, format!("$ {}", spec.argv.join(" ")));
        let ended = child::run(&spec, ctx.cancel)?;
        write_log(&spec, &ctx.output(LOG_FILE))?;
        match ended {
            Ended::Exited(0) => {}
            Ended::Cancelled => return Err(StageError::Cancelled),
            other => {
                let why = child::describe_failure(other, &spec.stderr, ctx.time_limit);
                let kept = format!("its full output, data and {{out}}: {}", work.root.display());
                return Err(CommandError::Child(format!("{why}\n({kept})")).into());
            }
        }
        collect_outputs(ctx, p, &work)?;
        if p.produces == "predictions" {
            write_predictions(ctx, p, &work)?;
        }
        Ok(())
    }
}

/// The folders of one attempt, below the instance's checkpoint folder (kept when it fails, so
/// its files can be looked at; removed when its entry is committed).
struct Workspace {
    root: PathBuf,
    data: PathBuf,
    out: PathBuf,
    tmp: PathBuf,
}

impl Workspace {
    fn create(checkpoint: &Path) -> Result<Workspace, StageError> {
        let root = checkpoint.join("command");
        if root.exists() {
            std::fs::remove_dir_all(&root).map_err(|e| StageError::io(&root, e))?;
        }
        let w = Workspace { data: root.join("data"), out: root.join("out"), tmp: root.join("tmp"), root };
        for d in [&w.data, &w.out, &w.tmp] {
            std::fs::create_dir_all(d).map_err(|e| StageError::io(d, e))?;
        }
        Ok(w)
    }
}

fn working_dir(env: &RunEnv) -> PathBuf {
    if env.pipeline_dir.as_os_str().is_empty() { PathBuf::from(".") } else { env.pipeline_dir.clone() }
}

/// The argv as written (`sh -c LINE` for a string).
fn written_argv(p: &CommandParams) -> Vec<String> {
    match &p.run {
        RunSpec::Argv(a) => a.clone(),
        RunSpec::Shell(line) => vec!["sh".into(), "-c".into(), line.clone()],
    }
}

/// The arguments whose placeholders are filled in (for a shell line, only the line).
fn templated(p: &CommandParams) -> Vec<(usize, String)> {
    match &p.run {
        RunSpec::Argv(a) => a.iter().cloned().enumerate().collect(),
        RunSpec::Shell(line) => vec![(2, line.clone())],
    }
}

fn check_params(p: &CommandParams, env: &RunEnv) -> Result<(), CheckError> {
    let run = crate::param_name!(CommandParams, run);
    if matches!(&p.run, RunSpec::Argv(a) if a.is_empty()) || matches!(&p.run, RunSpec::Shell(s) if s.trim().is_empty())
    {
        return Err(CheckError::param(run, "the command is empty"));
    }
    for (_, arg) in templated(p) {
        template::parse(&arg).map_err(|e| CheckError::param(run, e.to_string()))?;
    }
    for d in &p.deps {
        let path = env.pipeline_dir.join(d);
        if !path.exists() {
            return Err(CheckError::param(
                crate::param_name!(CommandParams, deps),
                format!("`{d}` does not exist (looked for {})", path.display()),
            ));
        }
    }
    for o in &p.outputs {
        let bad =
            o.is_empty() || Path::new(o).is_absolute() || Path::new(o).components().any(|c| c.as_os_str() == "..");
        if bad {
            return Err(CheckError::param(
                crate::param_name!(CommandParams, outputs),
                format!("`{o}` is not a file name inside `{{out}}`"),
            ));
        }
    }
    if let Some(py) = &p.python {
        let path = env.pipeline_dir.join(&py.requirements);
        if !path.is_file() {
            return Err(CheckError::param(
                crate::param_name!(CommandParams, python),
                format!("requirements file `{}` does not exist (looked for {})", py.requirements, path.display()),
            ));
        }
    }
    if p.env_key.as_ref().is_some_and(Vec::is_empty) {
        return Err(CheckError::param(crate::param_name!(CommandParams, env_key), "the command is empty"));
    }
    if let Some(k) = p.env.keys().find(|k| k.is_empty() || k.contains(['=', '\0'])) {
        return Err(CheckError::param(crate::param_name!(CommandParams, env), format!("`{k}` is not a variable name")));
    }
    Ok(())
}

/// Every `{inputs.NAME.FILE}` names an input, and a file that input will hold.
fn check_placeholders(p: &CommandParams, inputs: &[BoundInput]) -> Result<(), CheckError> {
    let run = crate::param_name!(CommandParams, run);
    for (_, arg) in templated(p) {
        let Ok(pieces) = template::parse(&arg) else { continue };
        for (name, file) in template::inputs(&pieces) {
            let input = inputs.iter().find(|i| i.name == name).ok_or_else(|| {
                let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
                CheckError::param(
                    run,
                    format!(
                        "`{{inputs.{name}.{file}}}`: the stage has no input `{name}` (its inputs: {})",
                        if names.is_empty() { "none".into() } else { names.join(", ") }
                    ),
                )
            })?;
            let available = input_files(input);
            if !available.iter().any(|f| f == file) {
                return Err(CheckError::param(
                    run,
                    format!(
                        "`{{inputs.{name}.{file}}}`: input `{name}` has no file `{file}` (it has: {})",
                        available.join(", ")
                    ),
                ));
            }
            if input.gather && !template::is_single_placeholder(&pieces) {
                return Err(CheckError::param(
                    run,
                    format!(
                        "`{{inputs.{name}.{file}}}` gathers several instances: write it as an argument of its own (it becomes one argument per instance)"
                    ),
                ));
            }
        }
    }
    if p.produces == "predictions" {
        data_input_name(inputs.iter().filter(|i| is_dataset(i)).map(|i| i.name.as_str()))
            .map_err(|m| CheckError::param(crate::param_name!(CommandParams, produces), m.to_string()))?;
    }
    Ok(())
}

fn is_dataset(input: &BoundInput) -> bool {
    !input.gather && input.outputs.iter().any(|o| o == DATASET_FILE)
}

/// What `{inputs.NAME.X}` may name for an input: `train`/`test` for a dataset, and its files
/// (a command's listed outputs by their own names).
fn input_files(input: &BoundInput) -> Vec<String> {
    let mut files = Vec::new();
    if is_dataset(input) {
        files.extend(["train".to_string(), "test".to_string()]);
    }
    for o in &input.outputs {
        files.push(o.strip_prefix(&format!("{OUT_DIR}/")).unwrap_or(o).to_string());
    }
    files
}

/// Why a classifier command has no one dataset to be about.
#[derive(Debug, thiserror::Error)]
enum DataInput {
    #[error("produces = \"predictions\" needs a dataset input (e.g. `inputs = {{ data = \"resample\" }}`)")]
    None,
    #[error("produces = \"predictions\": several dataset inputs ({0}); name the one predicted on `data`")]
    Several(String),
}

/// The dataset a classifier command is about: the one dataset input, or the one named `data`.
fn data_input_name<'a>(names: impl Iterator<Item = &'a str>) -> Result<&'a str, DataInput> {
    let names: Vec<&str> = names.collect();
    match names.as_slice() {
        [one] => Ok(one),
        [] => Err(DataInput::None),
        many if many.contains(&"data") => Ok("data"),
        many => Err(DataInput::Several(many.join(", "))),
    }
}

/// What the child runs with: its variables and, with `python`, the environment's interpreter.
struct Prepared {
    vars: BTreeMap<String, String>,
    python: Option<pyenv::PythonEnv>,
}

impl Prepared {
    /// `python`/`python3` as the program is the managed environment's interpreter.
    fn interpreter_argv(&self, argv: &[String]) -> Vec<String> {
        let mut argv = argv.to_vec();
        if let (Some(py), Some(first)) = (&self.python, argv.first_mut())
            && (*first == "python" || *first == "python3")
        {
            *first = py.python.display().to_string();
        }
        argv
    }
}

fn prepare_environment(p: &CommandParams, env: &RunEnv) -> Result<Prepared, StageError> {
    let mut vars = child::environment(&p.env);
    let Some(py) = &p.python else { return Ok(Prepared { vars, python: None }) };
    let cache = env.cache_dir.as_ref().ok_or_else(|| {
        StageError::from(CommandError::Environment("a managed Python environment needs a cache folder".into()))
    })?;
    let req =
        PythonRequest { requirements: env.pipeline_dir.join(&py.requirements), interpreter: py.interpreter.clone() };
    let made = pyenv::ensure(&req, &cache.join("envs"), &vars)?;
    let bin = made.root.join("bin");
    let path = vars.get("PATH").cloned().unwrap_or_default();
    vars.insert("PATH".into(), format!("{}:{path}", bin.display()));
    vars.insert("VIRTUAL_ENV".into(), made.root.display().to_string());
    Ok(Prepared { vars, python: Some(made) })
}

fn child_vars(prepared: &Prepared, work: &Workspace, device: &Device, accelerator: bool) -> BTreeMap<String, String> {
    let mut vars = prepared.vars.clone();
    vars.insert("TMPDIR".into(), work.tmp.display().to_string());
    if accelerator {
        vars.insert("TSCPIPE_DEVICE".into(), device.to_string());
        if let Device::Cuda(n) = device {
            vars.insert("CUDA_VISIBLE_DEVICES".into(), n.to_string());
        }
    }
    vars
}

/// `{device}`: `cpu`, `cuda` (its one visible GPU, CUDA_VISIBLE_DEVICES names which) or `wgpu:N`.
fn device_text(device: &Device) -> String {
    match device {
        Device::Cuda(_) => "cuda".into(),
        other => other.to_string(),
    }
}

/// The dataset inputs written out as files, by input name: (TRAIN path, TEST path).
struct DataFiles {
    written: BTreeMap<String, (PathBuf, PathBuf)>,
}

impl DataFiles {
    fn write(ctx: &StageContext<'_>, p: &CommandParams, work: &Workspace) -> Result<DataFiles, StageError> {
        let format =
            DataFormat::from_name(&p.data_format).ok_or_else(|| StageError::param("data_format", "ts, tsv or npy"))?;
        let mut wanted: Vec<String> = Vec::new();
        for (_, arg) in templated(p) {
            for (name, file) in template::inputs(&template::parse(&arg).map_err(CommandError::from)?) {
                if (file == "train" || file == "test") && !wanted.iter().any(|w| w == name) {
                    wanted.push(name.to_string());
                }
            }
        }
        let mut written = BTreeMap::new();
        for name in wanted {
            let ds = read_dataset(ctx.input(&name)?.file(DATASET_FILE)?)?;
            let dir = work.data.join(&name);
            std::fs::create_dir_all(&dir).map_err(|e| StageError::io(&dir, e))?;
            let train = write_split(&ds, &ds.train, "TRAIN", format, &dir)?;
            let test = write_split(&ds, &ds.test, "TEST", format, &dir)?;
            written.insert(name, (train, test));
        }
        Ok(DataFiles { written })
    }
}

/// The argv with every placeholder filled in; a gathered input's placeholder that is a whole
/// argument becomes one argument per upstream instance.
fn resolve_argv(
    ctx: &StageContext<'_>,
    p: &CommandParams,
    data: &DataFiles,
    work: &Workspace,
) -> Result<Vec<String>, StageError> {
    let argv = written_argv(p);
    let shell = matches!(p.run, RunSpec::Shell(_));
    let mut out = Vec::with_capacity(argv.len());
    for (i, arg) in argv.into_iter().enumerate() {
        let templated = !shell || i == 2;
        if !templated {
            out.push(arg);
            continue;
        }
        let pieces = template::parse(&arg).map_err(CommandError::from)?;
        if let [Piece::Input { name, file }] = pieces.as_slice()
            && !shell
            && ctx.gathered(name).len() != 1
        {
            for a in ctx.gathered(name) {
                out.push(upstream_file(a, file)?.display().to_string());
            }
            continue;
        }
        let filled = template::render(&pieces, |piece| -> Result<String, StageError> {
            let text = match piece {
                Piece::Out => work.out.display().to_string(),
                Piece::Device => device_text(ctx.device),
                Piece::Input { name, file } => input_path(ctx, data, name, file)?.display().to_string(),
                Piece::Text(t) => t.clone(),
            };
            Ok(if shell { shell_quote(&text) } else { text })
        })?;
        out.push(filled);
    }
    Ok(out)
}

fn input_path(ctx: &StageContext<'_>, data: &DataFiles, name: &str, file: &str) -> Result<PathBuf, StageError> {
    if let (Some((train, test)), true) = (data.written.get(name), file == "train" || file == "test") {
        return Ok(if file == "train" { train.clone() } else { test.clone() });
    }
    upstream_file(ctx.input(name)?, file).map(Path::to_path_buf)
}

fn upstream_file<'a>(a: &'a InputArtifact, file: &str) -> Result<&'a Path, StageError> {
    a.files
        .get(file)
        .or_else(|| a.files.get(&format!("{OUT_DIR}/{file}")))
        .map(PathBuf::as_path)
        .ok_or_else(|| StageError::failed(format!("input from `{}` has no file `{file}`", a.from)))
}

/// A path for `sh -c`: single-quoted unless it needs nothing.
fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:=,@%".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn write_log(spec: &ChildSpec, path: &Path) -> Result<(), StageError> {
    let read = |p: &Path| std::fs::read(p).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let text = format!(
        "$ {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        spec.argv.join(" "),
        read(&spec.stdout),
        read(&spec.stderr)
    );
    std::fs::write(path, text).map_err(|e| StageError::io(path, e))
}

/// Moves the listed outputs into the entry (`out/NAME`); one missing fails the instance.
fn collect_outputs(ctx: &StageContext<'_>, p: &CommandParams, work: &Workspace) -> Result<(), StageError> {
    for name in &p.outputs {
        let from = work.out.join(name);
        if !from.is_file() {
            let left: Vec<String> = std::fs::read_dir(&work.out)
                .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
                .unwrap_or_default();
            return Err(CommandError::output(
                &work.out,
                format!(
                    "the command did not write `{name}`, listed in `outputs` (it left: {})",
                    if left.is_empty() { "nothing".into() } else { left.join(", ") }
                ),
            )
            .into());
        }
        let to = ctx.output(OUT_DIR).join(name);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| StageError::io(parent, e))?;
        }
        std::fs::rename(&from, &to).map_err(|e| StageError::io(&to, e))?;
    }
    Ok(())
}

/// Reads the command's predictions into `predictions.json` (and its own fit/predict times, when
/// a tsml-eval file gives them, into `timing.json`).
fn write_predictions(ctx: &StageContext<'_>, p: &CommandParams, work: &Workspace) -> Result<(), StageError> {
    let names = ctx.inputs.iter().filter(|(_, v)| v.len() == 1 && v[0].files.contains_key(DATASET_FILE));
    let name = data_input_name(names.map(|(n, _)| n.as_str())).map_err(|e| StageError::failed(e.to_string()))?;
    let ds = read_dataset(ctx.input(name)?.file(DATASET_FILE)?)?;
    let mut train_classes: Vec<usize> = ds.train.labels.clone();
    train_classes.sort_unstable();
    train_classes.dedup();
    let expected = results::Expected { classes: &ds.classes, train_classes, truth: &ds.test.labels };
    let read = results::read(&work.out, &expected)?;
    let preds = Predictions {
        dataset: ds.name.clone(),
        method: p.label.clone(),
        protocol: "fit on TRAIN by the command".into(),
        classes: ds.classes.clone(),
        truth: ds.test.labels.clone(),
        predicted: read.predicted,
        scores: read.probabilities,
        selection_loss: None,
    };
    write_json(&ctx.output(PREDICTIONS_FILE), &preds)?;
    if read.fit_ms.is_some() || read.predict_ms.is_some() {
        write_json(&ctx.output(TIMING_FILE), &Timing { fit_ms: read.fit_ms, predict_ms: read.predict_ms })?;
    }
    Ok(())
}
