//! The `tscpipe` command line: a thin front over the library. Each subcommand is a clap struct
//! with the function that runs it beside it; `main` only dispatches.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use miette::IntoDiagnostic;

use tscpipe::app::{self, DeviceArg, Error, Options};
use tscpipe::cache::Cache;
use tscpipe::dsl::PipelineOptions;
use tscpipe::exec::events::{EventSink, JsonSink};
use tscpipe::exec::progress::{LiveSink, PlainSink};
use tscpipe::exec::scheduler::{Outcome, RunOptions};
use tscpipe::plan::Plan;
use tscpipe::settings::Settings;
use tscpipe::stages::Registry;
use tscpipe::stats::compare::{Comparison, External};

#[derive(Parser)]
#[command(name = "tscpipe", version, about = "Reproducible, cached pipelines for time-series classification")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a pipeline; only stages whose inputs changed execute.
    Run(RunCmd),
    /// Runs one stage instance described by a job file (what SLURM jobs execute on a node).
    #[command(name = "run-job", hide = true)]
    RunJob(RunJobCmd),
    /// Dry run: which stage instances are cached, which would run, and why.
    Status(StatusCmd),
    /// Print the fully expanded pipeline (every instance with its parameters).
    Show(ShowCmd),
    /// Print the instance graph as DOT (Graphviz) or Mermaid.
    Graph(GraphCmd),
    /// What differs between two runs of a pipeline (default: the last two).
    Diff(DiffCmd),
    /// Inspect and maintain the cache.
    Cache(CacheArgs),
    /// Compare methods on result tables (CSV, wide or long): ranks, Friedman, Wilcoxon–Holm,
    /// Nemenyi, critical-difference diagram — no pipeline needed.
    Analyze(AnalyzeCmd),
    /// Rebuild the HTML report of the pipeline's last run from the cache (nothing reruns).
    Report(ReportCmd),
    /// What this machine can compute on (CPU, wgpu adapters, CUDA devices) and what
    /// `--device auto` picks.
    Devices(DevicesCmd),
    /// List the stage kinds and their parameters.
    Kinds(KindsCmd),
    /// Print a shell completion script: `tscpipe completions bash > ~/.local/share/bash-completion/completions/tscpipe`.
    Completions(CompletionsCmd),
}

fn main() -> ExitCode {
    tscpipe::models::tune_host_allocator();
    // Behave like other Unix tools under `| head`: die quietly on a closed pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    match real_main() {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> miette::Result<ExitCode> {
    let registry = Registry::builtin();
    match Cli::parse().cmd {
        Cmd::Run(c) => c.run(&registry),
        Cmd::RunJob(c) => c.run(&registry),
        Cmd::Status(c) => c.run(&registry),
        Cmd::Show(c) => c.run(&registry),
        Cmd::Graph(c) => c.run(&registry),
        Cmd::Diff(c) => c.run(&registry),
        Cmd::Cache(c) => c.run(&registry),
        Cmd::Analyze(c) => c.run(),
        Cmd::Report(c) => c.run(&registry),
        Cmd::Devices(c) => c.run(),
        Cmd::Kinds(c) => c.run(&registry),
        Cmd::Completions(c) => c.run(),
    }
}

// ---- what several commands share ----

#[derive(Args, Clone)]
struct Common {
    /// The pipeline file (TOML).
    pipeline: PathBuf,
    /// Override a value: `stage.param=VALUE` or `matrix.axis=[…]` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Merge the named `[profiles.NAME]` table over the pipeline (e.g. `quick`).
    #[arg(long)]
    profile: Option<String>,
    /// Cache location [default: $TSCPIPE_CACHE or ./cache].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Extra folder to look for datasets in (repeatable); also $TSCPIPE_DATA, $UCR_ARCHIVE.
    #[arg(long = "data-dir", value_name = "DIR")]
    data_dirs: Vec<PathBuf>,
    /// Only this stage (or instance id) and what it needs (repeatable), like `make TARGET`.
    #[arg(long = "target", value_name = "STAGE")]
    targets: Vec<String>,
}

impl Common {
    fn options(&self) -> Options {
        let mut o = Options::default();
        if let Some(c) = &self.cache_dir {
            o.cache_dir = c.clone();
        }
        o.data_dirs = self.data_dirs.clone();
        o.load = PipelineOptions {
            profile: self.profile.clone(),
            sets: self.sets.clone(),
            stdlib_dirs: Vec::new(),
            targets: self.targets.clone(),
        };
        o
    }
}

/// `--device`, resolved once (`auto` included) for the whole command.
fn device_arg(s: &str) -> Result<DeviceArg, String> {
    DeviceArg::resolve(s).map_err(|e| e.to_string())
}

/// Says what `--device auto` picked (on stderr, so `--json` output stays JSON).
fn show_auto(device: &DeviceArg) {
    if device.auto {
        eprintln!("--device auto: {}", device.device);
    }
}

fn to_report(e: Error) -> miette::Report {
    match e {
        Error::Dsl(d) => miette::Report::new(d),
        other => miette::miette!("{other}"),
    }
}

fn cache_at(dir: Option<PathBuf>) -> miette::Result<Cache> {
    let dir = dir.unwrap_or_else(|| Options::default().cache_dir);
    Cache::open(dir).map_err(|e| miette::miette!("{e}"))
}

/// The cache at `dir` (or the default) with the remote the settings in force name: the user's
/// config, then the pipeline's `[cache]` (if `pipeline` is given), then `--remote`.
fn cache_with_remote(
    cache_dir: Option<PathBuf>,
    pipeline: Option<&std::path::Path>,
    remote: Option<String>,
    registry: &Registry,
) -> miette::Result<(Cache, Options, Option<tscpipe::dsl::Expanded>)> {
    let mut o = Options::default();
    if let Some(d) = cache_dir {
        o.cache_dir = d;
    }
    let (expanded, declared) = match pipeline {
        Some(p) => {
            let (e, s) = app::load_with_settings(p, &o, registry).map_err(to_report)?;
            (Some(e), s)
        }
        None => (None, Settings::default()),
    };
    let mut cli = Settings::default();
    cli.cache.remote = remote;
    let settings = app::effective_settings(declared, &cli).map_err(to_report)?;
    let cache = app::open_cache(&o.cache_dir, &settings.cache).map_err(to_report)?;
    Ok((cache, o, expanded))
}

/// First Ctrl-C: stop scheduling and let running stages stop at their next check (nothing
/// half-written is kept). Second Ctrl-C: exit at once (the cache is still consistent).
fn install_ctrlc() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let f = flag.clone();
    let _ = ctrlc::set_handler(move || {
        f.store(true, Ordering::SeqCst);
        if count.fetch_add(1, Ordering::SeqCst) >= 1 {
            std::process::exit(130);
        }
        eprintln!("\nstopping: waiting for running stages to stop (Ctrl-C again to quit now)");
    });
    flag
}

// ---- run ----

#[derive(Args)]
struct RunCmd {
    #[command(flatten)]
    common: Common,
    /// Stages to run at once.
    #[arg(short, long, default_value_t = 1)]
    jobs: usize,
    /// Device for stages that want an accelerator: cpu, cuda, cuda:N, wgpu, wgpu:N, or auto
    /// (`tscpipe devices` lists them and auto's pick).
    #[arg(long, default_value = "cpu", value_parser = device_arg)]
    device: DeviceArg,
    /// Accelerator stages allowed on one device at the same time.
    #[arg(long, default_value_t = 1)]
    per_device: usize,
    /// Keep running independent stages after a failure.
    #[arg(short, long)]
    keep_going: bool,
    /// Emit one JSON event per line on stdout instead of the live view.
    #[arg(long)]
    json: bool,
    /// Where published results go.
    #[arg(long, default_value = "results", value_name = "DIR")]
    results_dir: PathBuf,
    /// Where stages run: local (this process) or slurm (one sbatch job per stage instance;
    /// the cache must be on a filesystem the nodes share). Also `[executor] kind`.
    #[arg(long, value_name = "local|slurm")]
    executor: Option<String>,
    /// A shared HTTP cache behind the local one (`[cache] remote`; token from the variable
    /// `[cache] token_env` names, default $TSCPIPE_REMOTE_TOKEN).
    #[arg(long, value_name = "URL")]
    remote: Option<String>,
}

impl RunCmd {
    fn run(self, registry: &Registry) -> miette::Result<ExitCode> {
        show_auto(&self.device);
        let mut opts = self.common.options();
        opts.results_dir = self.results_dir;
        let cancel = install_ctrlc();
        let sink: Box<dyn EventSink> = if self.json {
            Box::new(JsonSink)
        } else if std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("CI").is_none() {
            Box::new(LiveSink::default())
        } else {
            Box::new(PlainSink::default())
        };
        let run = RunOptions {
            jobs: self.jobs,
            device: self.device.device,
            per_device: self.per_device,
            keep_going: self.keep_going,
            ..Default::default()
        };
        let mut cli = Settings::default();
        cli.executor.kind = self.executor;
        cli.cache.remote = self.remote;
        let out = app::run_with(&self.common.pipeline, &opts, &run, &cli, registry, sink.as_ref(), &cancel)
            .map_err(to_report)?;
        if !self.json {
            print_run(&out, &opts, registry)?;
        }
        let s = &out.summary;
        if s.cancelled {
            eprintln!("interrupted: finished stages are cached; run again to resume");
            return Ok(ExitCode::from(130));
        }
        Ok(if s.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
    }
}

/// What a run prints after its events: executor and remote cache figures, one row per stage,
/// the main summary, where results went, the totals.
fn print_run(out: &app::RunOutput, opts: &Options, registry: &Registry) -> miette::Result<()> {
    if let Some(st) = &out.slurm {
        println!(
            "\nslurm: {} stage instances submitted in {} sbatch calls, {} adopted from an earlier run",
            st.submitted, st.sbatch_calls, st.adopted
        );
    }
    if let Some(r) = &out.remote {
        println!(
            "remote cache: {} entries fetched, {} uploaded ({} failed, {} left for `cache push`), {} \
             downloads rejected{}",
            r.entries_fetched,
            r.entries_uploaded,
            r.upload_failures,
            r.not_uploaded,
            r.rejected,
            if r.down { "; it was unreachable, so this run used the local cache only" } else { "" }
        );
    }
    print_summary(out);
    let cache = Cache::open(&opts.cache_dir).into_diagnostic()?;
    if let Some((id, text)) = app::main_summary(out, registry, &cache) {
        println!("\n== {id} ==\n{}", text.trim_end());
    }
    if !out.published.is_empty() {
        let dir = tscpipe::exec::publish::pipeline_dir(&opts.results_dir, &out.pipeline);
        println!("\nresults: {} ({} files)", dir.display(), out.published.len());
    }
    let s = &out.summary;
    println!(
        "\n{} stage instances: {} ran, {} cached, {} failed, {} not run — {:.2}s",
        s.results.len(),
        s.ran(),
        s.cached(),
        s.failed(),
        s.results.len() - s.ran() - s.cached() - s.failed(),
        s.seconds
    );
    if s.ran() == 0 && s.ok() {
        println!("nothing to do: everything was cached");
    }
    Ok(())
}

fn print_summary(out: &app::RunOutput) {
    let s = &out.summary;
    // One row per stage: instances ran / cached / failed and the wall time of what ran.
    println!("\n{:<24} {:>5} {:>7} {:>7} {:>9}", "stage", "ran", "cached", "failed", "seconds");
    for st in &out.pipeline.stages {
        let rows: Vec<_> = st.instances.iter().filter_map(|&i| s.results.get(i)).collect();
        let ran = rows.iter().filter(|r| r.outcome == Outcome::Ran).count();
        let cached = rows.iter().filter(|r| r.outcome == Outcome::Cached).count();
        let failed = rows.iter().filter(|r| matches!(r.outcome, Outcome::Failed(_))).count();
        let secs: f64 = rows.iter().map(|r| r.seconds).sum();
        println!("{:<24} {:>5} {:>7} {:>7} {:>9.2}", st.name, ran, cached, failed, secs);
    }
    for r in &s.results {
        if let Outcome::Failed(e) = &r.outcome {
            eprintln!("failed: {}: {e}", r.id);
        }
    }
}

// ---- run-job ----

#[derive(Args)]
struct RunJobCmd {
    #[arg(required_unless_present = "tasks")]
    job: Option<PathBuf>,
    /// A SLURM array's task list: run the job file on line $SLURM_ARRAY_TASK_ID.
    #[arg(long, value_name = "LIST", conflicts_with = "job")]
    tasks: Option<PathBuf>,
}

impl RunJobCmd {
    fn run(self, registry: &Registry) -> miette::Result<ExitCode> {
        // The panic message without the standard hook's lock: a panic under a memory limit
        // whose report fails to allocate then aborts ("memory allocation of … failed", which
        // reads as out of memory) instead of deadlocking on that lock.
        std::panic::set_hook(Box::new(|info| {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "tscpipe run-job: {info}");
        }));
        let cancel = install_ctrlc();
        let job = match (self.job, self.tasks) {
            (Some(j), _) => j,
            (None, Some(list)) => tscpipe::exec::jobfile::task_job_file(&list).map_err(|e| miette::miette!("{e}"))?,
            (None, None) => return Err(miette::miette!("run-job needs a job file or --tasks")),
        };
        let ok = tscpipe::exec::jobfile::run_job_file(&job, registry, &cancel).map_err(|e| miette::miette!("{e}"))?;
        Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
    }
}

// ---- status ----

#[derive(Args)]
struct StatusCmd {
    #[command(flatten)]
    common: Common,
    /// The device `run` would use (cpu, cuda, cuda:N, wgpu, wgpu:N, or auto): stages that
    /// want an accelerator are keyed by its backend, so give the one the run used.
    #[arg(long, default_value = "cpu", value_parser = device_arg)]
    device: DeviceArg,
    /// Every instance (the complete record, as JSON).
    #[arg(long)]
    json: bool,
    /// List every instance that would run, with its reasons, instead of one line per stage.
    #[arg(short, long)]
    verbose: bool,
    /// Also look in this remote cache (else the `[cache] remote` in force): entries only
    /// there are shown as `remote` (nothing is downloaded).
    #[arg(long, value_name = "URL")]
    remote: Option<String>,
}

impl StatusCmd {
    fn run(self, registry: &Registry) -> miette::Result<ExitCode> {
        show_auto(&self.device);
        let opts = self.common.options();
        let (p, settings) = app::load_with_settings(&self.common.pipeline, &opts, registry).map_err(to_report)?;
        let mut cli = Settings::default();
        cli.cache.remote = self.remote;
        let settings = app::effective_settings(settings, &cli).map_err(to_report)?;
        let cache = app::open_cache(&opts.cache_dir, &settings.cache).map_err(to_report)?;
        let rows = opts.status_in(&p, registry, &cache, &self.device.device);
        if self.json {
            println!("{}", serde_json::to_string_pretty(&rows).into_diagnostic()?);
            return Ok(ExitCode::SUCCESS);
        }
        if self.verbose {
            print!("{}", tscpipe::plan::status::verbose_text(&rows));
        } else {
            print!("{}", tscpipe::plan::status::summary_text(&p, &rows));
        }
        if let Some(r) = cache.remote().filter(|r| r.is_down()) {
            println!("(the remote cache {} did not answer: only the local cache was consulted)", r.url());
        }
        Ok(ExitCode::SUCCESS)
    }
}

// ---- show, graph ----

#[derive(Args)]
struct ShowCmd {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    json: bool,
}

impl ShowCmd {
    fn run(self, registry: &Registry) -> miette::Result<ExitCode> {
        let p = app::load(&self.common.pipeline, &self.common.options(), registry).map_err(to_report)?;
        if self.json {
            let v: Vec<serde_json::Value> = p
                .instances
                .iter()
                .map(|i| {
                    let inputs: std::collections::BTreeMap<_, _> = i
                        .inputs
                        .iter()
                        .map(|b| {
                            let from: Vec<_> = b.sources.iter().map(|s| p.instances[s.instance].id.clone()).collect();
                            (b.name.clone(), from)
                        })
                        .collect();
                    serde_json::json!({ "id": i.id, "kind": i.kind, "params": i.params.0, "inputs": inputs })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&v).into_diagnostic()?);
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "# pipeline `{}` ({}): {} stages, {} instances",
            p.name,
            p.path.display(),
            p.stages.len(),
            p.instances.len()
        );
        for i in &p.instances {
            println!("\n[\"{}\"]\nkind = \"{}\"", i.id, i.kind);
            for b in &i.inputs {
                let from: Vec<String> =
                    b.sources.iter().map(|s| format!("\"{}\"", p.instances[s.instance].id)).collect();
                println!("inputs.{} = [{}]", b.name, from.join(", "));
            }
            for (k, v) in &i.params.0 {
                println!("{k} = {v}");
            }
            for note in registry.get(&i.kind).map(|k| k.notes(&i.params)).unwrap_or_default() {
                println!("# {note}");
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(Copy, Clone, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Args)]
struct GraphCmd {
    #[command(flatten)]
    common: Common,
    #[arg(long, value_enum, default_value = "dot")]
    format: GraphFormat,
}

impl GraphCmd {
    fn run(self, registry: &Registry) -> miette::Result<ExitCode> {
        let p = app::load(&self.common.pipeline, &self.common.options(), registry).map_err(to_report)?;
        let plan = Plan::new(&p);
        print!(
            "{}",
            match self.format {
                GraphFormat::Dot => plan.dot(),
                GraphFormat::Mermaid => plan.mermaid(),
            }
        );
        Ok(ExitCode::SUCCESS)
    }
}

// ---- diff ----

#[derive(Args)]
struct DiffCmd {
    /// Pipeline name (as in `[pipeline] name`) or file.
    pipeline: String,
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

impl DiffCmd {
    fn run(self, registry: &Registry) -> miette::Result<ExitCode> {
        let cache = cache_at(self.cache_dir)?;
        let name = if self.pipeline.ends_with(".toml") {
            let p = PathBuf::from(&self.pipeline);
            app::load(&p, &Options::default(), registry).map_err(to_report)?.name
        } else {
            self.pipeline
        };
        let runs = cache.runs(&name);
        if runs.len() < 2 {
            println!("pipeline `{name}` has {} recorded run(s); need two to diff", runs.len());
            return Ok(ExitCode::SUCCESS);
        }
        let (a, b) = (&runs[runs.len() - 2].1, &runs[runs.len() - 1].1);
        for line in tscpipe::cache::runs_diff(&cache, a, b) {
            println!("{line}");
        }
        Ok(ExitCode::SUCCESS)
    }
}

// ---- cache ----

#[derive(Args)]
struct CacheArgs {
    #[command(subcommand)]
    cmd: CacheCmd,
    #[arg(long, global = true, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum CacheCmd {
    /// List entries with their sizes and the stages that made them.
    Ls,
    /// Remove entries no pipeline's latest run uses (or none newer than --older-than).
    Gc {
        /// Also keep entries used by runs newer than this (e.g. 7d, 12h, 30m).
        #[arg(long, value_name = "AGE")]
        older_than: Option<String>,
    },
    /// Re-hash every blob and manifest; drop what fails.
    Verify,
    /// Upload every local entry the remote cache lacks (e.g. at the end of a CI job).
    Push {
        /// Read `[cache]` from this pipeline (else the user config / --remote).
        pipeline: Option<PathBuf>,
        #[arg(long, value_name = "URL")]
        remote: Option<String>,
    },
    /// Restore from the remote cache every entry this pipeline would use (e.g. at the start of
    /// a CI job); then `run` computes only what changed.
    Pull {
        pipeline: PathBuf,
        #[arg(long, value_name = "URL")]
        remote: Option<String>,
        /// The device the run whose entries are pulled used (cpu, cuda, cuda:N, wgpu, wgpu:N, or
        /// auto): stages that want an accelerator are keyed by its backend.
        #[arg(long, default_value = "cpu", value_parser = device_arg)]
        device: DeviceArg,
    },
}

impl CacheArgs {
    fn run(self, registry: &Registry) -> miette::Result<ExitCode> {
        match self.cmd {
            CacheCmd::Push { pipeline, remote } => {
                let (cache, _, _) = cache_with_remote(self.cache_dir, pipeline.as_deref(), remote, registry)?;
                let r = app::cache_push(&cache).map_err(to_report)?;
                println!("pushed {} entries ({} already on the remote, {} failed)", r.uploaded, r.present, r.failed);
                Ok(if r.failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
            }
            CacheCmd::Pull { pipeline, remote, device } => {
                show_auto(&device);
                let (cache, o, p) = cache_with_remote(self.cache_dir, Some(&pipeline), remote, registry)?;
                let p = p.ok_or_else(|| miette::miette!("no pipeline to pull for"))?;
                let r = app::cache_pull(&p, &o, &cache, registry, &device.device).map_err(to_report)?;
                println!(
                    "pulled {} entries ({} were local, {} not on the remote: they will run)",
                    r.fetched, r.local, r.missing
                );
                Ok(ExitCode::SUCCESS)
            }
            CacheCmd::Ls => {
                cache_ls(&cache_at(self.cache_dir)?);
                Ok(ExitCode::SUCCESS)
            }
            CacheCmd::Gc { older_than } => {
                let cache = cache_at(self.cache_dir)?;
                let age = older_than.map(|s| parse_age(&s)).transpose()?;
                let r = cache.gc(age).map_err(|e| miette::miette!("{e}"))?;
                println!(
                    "removed {} entries and {} blobs ({} bytes); kept {} entries",
                    r.entries_removed, r.blobs_removed, r.bytes_freed, r.entries_kept
                );
                Ok(ExitCode::SUCCESS)
            }
            CacheCmd::Verify => cache_verify(&cache_at(self.cache_dir)?),
        }
    }
}

fn cache_ls(cache: &Cache) {
    let entries = cache.list();
    let mut total = 0;
    println!("{:<14} {:>10}  {:<12} {:<16} instance", "key", "bytes", "kind", "pipeline");
    for e in &entries {
        total += e.size;
        println!("{:<14} {:>10}  {:<12} {:<16} {}", &e.key[..12], e.size, e.kind, e.pipeline, e.instance);
    }
    println!("{} entries, {} bytes", entries.len(), total);
}

fn cache_verify(cache: &Cache) -> miette::Result<ExitCode> {
    let r = cache.verify_all().map_err(|e| miette::miette!("{e}"))?;
    for (key, why) in &r.entries_dropped {
        println!("dropped {}: {why}", &key[..12.min(key.len())]);
    }
    println!(
        "checked {} blobs and {} entries: {} corrupt blobs, {} entries dropped",
        r.blobs_checked,
        r.entries_checked,
        r.blobs_corrupt.len(),
        r.entries_dropped.len()
    );
    let clean = r.entries_dropped.is_empty() && r.blobs_corrupt.is_empty();
    Ok(if clean { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn parse_age(s: &str) -> miette::Result<Duration> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| miette::miette!("bad age `{s}` (e.g. 7d, 12h, 30m)"))?;
    let secs = match unit {
        "d" => n * 86400,
        "h" => n * 3600,
        "m" => n * 60,
        "s" | "" => n,
        _ => return Err(miette::miette!("bad age unit in `{s}` (use d, h, m or s)")),
    };
    Ok(Duration::from_secs(secs))
}

// ---- analyze ----

#[derive(Args)]
struct AnalyzeCmd {
    /// Result tables, merged on dataset name. Layouts are recognised: aeon/tsml-eval
    /// `Resamples:` files (method from the file name, e.g. HC2_accuracy.csv), `dataset,0,…,29`
    /// resample tables, dl-4-tsc and InceptionTime long results, wide and long CSV. A table of
    /// one method's statistics takes `FILE:COLUMN=METHOD` (e.g.
    /// results_ucr.csv:accuracy_mean=ROCKET); `FILE=METHOD` names the method of a one-method file.
    #[arg(required = true, value_name = "FILE[:COLUMN][=METHOD]")]
    files: Vec<External>,
    /// Where the analysis files go.
    #[arg(long, default_value = "analysis", value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    comparison: Comparison,
}

impl AnalyzeCmd {
    fn run(self) -> miette::Result<ExitCode> {
        let a = app::analyze_tables(&self.files, &self.comparison, &self.out).map_err(to_report)?;
        print!("{}", a.to_markdown());
        println!("\nwritten to {}/", self.out.display());
        Ok(ExitCode::SUCCESS)
    }
}

// ---- report ----

#[derive(Args)]
struct ReportCmd {
    #[command(flatten)]
    common: Common,
    #[arg(long, default_value = "results", value_name = "DIR")]
    results_dir: PathBuf,
}

impl ReportCmd {
    fn run(self, registry: &Registry) -> miette::Result<ExitCode> {
        let mut opts = self.common.options();
        opts.results_dir = self.results_dir;
        for f in app::report(&self.common.pipeline, &opts, registry).map_err(to_report)? {
            println!("{}", f.display());
        }
        Ok(ExitCode::SUCCESS)
    }
}

// ---- devices, kinds, completions ----

#[derive(Args)]
struct DevicesCmd {
    /// Also time one LSTM-FCN training step on DEVICE at B=50/T=150 and B=128/T=500.
    #[arg(long, value_name = "DEVICE", value_parser = device_arg)]
    bench: Option<DeviceArg>,
    /// With --bench: only B=50/T=150 (the large step is slow on a software device).
    #[arg(long)]
    small: bool,
}

impl DevicesCmd {
    fn run(self) -> miette::Result<ExitCode> {
        println!("{}", app::devices());
        if let Some(device) = self.bench {
            show_auto(&device);
            let device = device.device;
            for (b, t, steps) in tscpipe::models::step_bench::SIZES.into_iter().filter(|s| !self.small || s.0 == 50) {
                let ms =
                    tscpipe::models::step_bench::step_ms(device, b, t, 2, steps).map_err(|e| miette::miette!("{e}"))?;
                println!("step {device} B={b} T={t}: {ms:.1} ms");
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(Args)]
struct KindsCmd {
    /// Show one kind in detail.
    kind: Option<String>,
    /// Print the reference as Markdown (what `docs/stages.md` holds): every kind, or KIND.
    #[arg(long)]
    markdown: bool,
}

impl KindsCmd {
    fn run(self, registry: &Registry) -> miette::Result<ExitCode> {
        if let Some(name) = self.kind.as_deref()
            && registry.get(name).is_none()
        {
            let hint = tscpipe::dsl::suggest::nearest(name, registry.names())
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            return Err(miette::miette!("unknown stage kind `{name}`{hint} (`tscpipe kinds` lists them)"));
        }
        if self.markdown {
            use tscpipe::stages::markdown;
            match self.kind.as_deref().and_then(|n| registry.get(n)) {
                Some(k) => print!("{}", markdown::kind_markdown(k)),
                None => print!("{}", markdown::registry_markdown(registry)),
            }
            return Ok(ExitCode::SUCCESS);
        }
        for k in registry.iter() {
            if self.kind.as_deref().is_some_and(|n| n != k.name()) {
                continue;
            }
            println!("{} (v{}): {}", k.name(), k.version(), k.about());
            if self.kind.is_some() {
                print_kind_detail(k);
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn print_kind_detail(k: &dyn tscpipe::stages::kind::StageKind) {
    for i in k.inputs() {
        println!("  input  {}{}: {}", i.name, if i.gather { " (gather)" } else { "" }, i.doc);
    }
    for p in k.params() {
        let d = p
            .default
            .as_ref()
            .map(|d| format!(" = {d}"))
            .unwrap_or_else(|| if p.optional { " (optional)".into() } else { " (required)".into() });
        println!("  param  {}: {}{d} — {}", p.name, p.ty.describe(), p.doc);
    }
    for o in k.outputs() {
        println!("  output {}: {}", o.name, o.doc);
    }
}

#[derive(Args)]
struct CompletionsCmd {
    /// The shell to complete in.
    shell: clap_complete::Shell,
}

impl CompletionsCmd {
    fn run(self) -> miette::Result<ExitCode> {
        use clap::CommandFactory;
        clap_complete::generate(self.shell, &mut Cli::command(), "tscpipe", &mut std::io::stdout());
        Ok(ExitCode::SUCCESS)
    }
}
