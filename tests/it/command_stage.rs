//! The `command` stage: a researcher's own program under the cache, the resamples and the
//! statistics (pipelines/bring_your_own.toml, examples/methods/).

use std::path::{Path, PathBuf};

use tscpipe::exec::scheduler::Outcome;

use crate::common::{Project, published, ran, repo};

/// The text of a cache blob.
fn blob(p: &Project, digest: &str) -> String {
    let cache = tscpipe::cache::Cache::open(p.cache_dir()).unwrap();
    std::fs::read_to_string(cache.blob_path(digest)).unwrap()
}

/// A project holding a copy of the example methods, so that a test can edit them.
fn project_with_methods() -> Project {
    let p = Project::new();
    copy_dir(&repo().join("examples/methods"), &p.path("methods"));
    p
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            if e.file_name() != "__pycache__" {
                copy_dir(&src, &dst);
            }
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// GunPoint and ItalyPowerDemand, resamples 0-2: the Python nearest centroid beside 1-NN ED.
const BYO: &str = r#"
[pipeline]
name = "byo"
main = "table"

[matrix]
dataset = ["GunPoint", "ItalyPowerDemand"]
resample = { range = [0, 3] }

[stages.load]
kind = "load"
dataset = "${dataset}"

[stages.resample]
kind = "resample"
inputs = { data = "load" }
seed = "${resample}"

[stages.centroid]
kind = "command"
inputs = { data = "resample" }
run = ["python3", "methods/nearest_centroid.py", "{inputs.data.train}", "{inputs.data.test}", "{out}", "--seed", "${resample}"]
deps = ["methods/nearest_centroid.py", "methods/tsclib/"]
produces = "predictions"
label = "NearestCentroid"

[stages.nn_ed]
kind = "classify"
inputs = { data = "resample" }
distance = "euclidean"
label = "1NN-ED"

[stages.eval_centroid]
kind = "evaluate"
inputs = { predictions = "centroid" }

[stages.eval_ed]
kind = "evaluate"
inputs = { predictions = "nn_ed" }

[stages.table]
kind = "table"
inputs = { results = ["eval_centroid", "eval_ed"] }

[stages.export]
kind = "export"
inputs = { predictions = ["centroid", "nn_ed"] }
"#;

/// The error of the run's one instance, which must have failed.
fn failure(out: &tscpipe::app::RunOutput) -> &str {
    match &out.summary.results[0].outcome {
        Outcome::Failed(e) => e,
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn count(ids: &[String], stage: &str) -> usize {
    ids.iter().filter(|id| id.starts_with(&format!("{stage}["))).count()
}

#[test]
fn a_python_method_runs_beside_the_built_in_ones_and_reruns_only_when_it_changes() {
    let p = project_with_methods();
    let file = p.write("byo.toml", BYO);
    let out = p.run(&file);
    assert_eq!(count(&ran(&out), "centroid"), 6);
    let table = published(&out, "table/results.csv");
    assert!(table.starts_with("dataset,NearestCentroid,1NN-ED"), "{table}");
    // the tsml-eval export holds the command's predictions with its probabilities
    let tsml = out
        .published
        .iter()
        .find(|f| f.ends_with("tsml/NearestCentroid/Predictions/GunPoint/testResample1.csv"))
        .expect("exported results file");
    let text = std::fs::read_to_string(tsml).unwrap();
    assert_eq!(text.lines().count(), 3 + 150);
    assert_eq!(text.lines().nth(3).unwrap().split(',').count(), 5, "truth, prediction, blank, 2 probabilities");

    // a second run executes nothing
    assert!(ran(&p.run(&file)).is_empty());

    // a comment in the script: exactly its instances rerun, and identical predictions leave
    // every evaluation cached (early cutoff)
    let script = p.path("methods/nearest_centroid.py");
    let text = std::fs::read_to_string(&script).unwrap();
    std::fs::write(&script, format!("{text}\n# an edit that changes no number\n")).unwrap();
    let again = ran(&p.run(&file));
    assert_eq!(count(&again, "centroid"), 6, "{again:?}");
    assert_eq!(again.len(), 6, "only the command's instances: {again:?}");

    // a script that fails: the instance fails with its stderr, nothing is committed, and the
    // next run retries exactly the failed instances
    std::fs::write(&script, format!("import sys\nsys.stderr.write('no luck today\\n')\nsys.exit(1)\n{text}")).unwrap();
    let (failed, _) = p.try_run(&file).expect("the run itself completes");
    let errors: Vec<&String> = failed
        .summary
        .results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Failed(e) => Some(e),
            _ => None,
        })
        .collect();
    assert!(!errors.is_empty());
    assert!(errors[0].contains("exited with status 1") && errors[0].contains("no luck today"), "{}", errors[0]);
    std::fs::write(&script, format!("{text}\n# fixed\n")).unwrap();
    let retried = ran(&p.run(&file));
    assert_eq!(count(&retried, "centroid"), 6, "{retried:?}");
    assert_eq!(retried.len(), 6, "evaluations stay cached: {retried:?}");
}

#[test]
fn the_shipped_example_runs_its_quick_profile() {
    let mut p = Project::new();
    p.sets.push("matrix.resample={ range = [0, 2] }".into());
    p.sets.push("matrix.dataset=[\"Coffee\"]".into());
    let out = p.run(&repo().join("pipelines/bring_your_own.toml"));
    let table = published(&out, "table/results.csv");
    assert!(table.starts_with("dataset,NearestCentroid,1NN-ED,MiniRocket"), "{table}");
    assert!(out.published.iter().any(|f| f.to_string_lossy().contains("report")), "{:?}", out.published);
}

/// The plain-Python 1-NN ED gets the same predictions as the built-in one on every series: the
/// files tscpipe writes carry exactly the numbers it holds (univariate and multivariate, `.ts`,
/// `.tsv` and `.npy` readers alike).
#[test]
fn the_data_files_carry_exactly_tscpipes_numbers() {
    let p = project_with_methods();
    let file = p.write(
        "nn.toml",
        r#"
[pipeline]
name = "nn"

[matrix]
dataset = ["ArrowHead", "BasicMotions"]

[stages.load]
kind = "load"
dataset = "${dataset}"

[stages.resample]
kind = "resample"
inputs = { data = "load" }
seed = 3

[stages.python]
kind = "command"
inputs = { data = "resample" }
run = ["python3", "methods/one_nn.py", "{inputs.data.train}", "{inputs.data.test}", "{out}"]
deps = ["methods/one_nn.py", "methods/tsclib/"]
produces = "predictions"

[stages.builtin]
kind = "classify"
inputs = { data = "resample" }
distance = "euclidean"
"#,
    );
    let out = p.run(&file);
    for ds in ["ArrowHead", "BasicMotions"] {
        let read = |stage: &str| -> serde_json::Value {
            let r = out.summary.results.iter().find(|r| r.id == format!("{stage}[dataset={ds}]")).unwrap();
            let m = r.manifest.as_ref().unwrap();
            serde_json::from_str(&blob(&p, &m.outputs["predictions.json"].digest)).unwrap()
        };
        let (py, rs) = (read("python"), read("builtin"));
        assert_eq!(py["predicted"], rs["predicted"], "{ds}");
        assert_eq!(py["truth"], rs["truth"], "{ds}");
    }
}

#[test]
fn files_flow_between_commands_and_a_missing_one_fails_the_instance() {
    let p = Project::new();
    let file = p.write(
        "files.toml",
        r#"
[pipeline]
name = "files"

[stages.load]
kind = "load"
dataset = "Coffee"

[stages.count]
kind = "command"
inputs = { data = "load" }
run = "wc -l < {inputs.data.train} > {out}/lines.txt && echo $GREETING > {out}/greeting.txt"
outputs = ["lines.txt", "greeting.txt"]
env = { GREETING = "hello" }

[stages.use]
kind = "command"
inputs = { counted = "count" }
run = ["sh", "-c", "cat \"$1\" \"$2\" > {out}/both.txt; env > {out}/env.txt", "sh", "{inputs.counted.lines.txt}", "{inputs.counted.greeting.txt}"]
outputs = ["both.txt", "env.txt"]
"#,
    );
    // SAFETY: set before the run starts its threads; only the child would read it.
    unsafe { std::env::set_var("TSCPIPE_TEST_SECRET", "leaked") };
    let out = p.run(&file);
    let r = out.summary.results.iter().find(|r| r.id == "use").unwrap();
    let m = r.manifest.as_ref().unwrap();
    assert!(m.outputs.contains_key("out/both.txt") && m.outputs["log.txt"].volatile, "{:?}", m.outputs.keys());
    // Coffee's TRAIN: 28 series and the .ts header's 8 lines
    assert_eq!(blob(&p, &m.outputs["out/both.txt"].digest), "36\nhello\n");
    let env = blob(&p, &m.outputs["out/env.txt"].digest);
    assert!(!env.contains("TSCPIPE_TEST_SECRET") && env.contains("TMPDIR="), "{env}");

    let missing = p.write(
        "missing.toml",
        r#"
[pipeline]
name = "missing"

[stages.nothing]
kind = "command"
run = ["sh", "-c", "echo made > {out}/other.txt"]
outputs = ["wanted.txt"]
"#,
    );
    let (out, _) = p.try_run(&missing).unwrap();
    let e = failure(&out);
    assert!(e.contains("did not write `wanted.txt`") && e.contains("other.txt"), "{e}");
}

#[test]
fn an_accelerator_command_gets_its_device() {
    let p = Project::new();
    let file = p.write(
        "dev.toml",
        r#"
[pipeline]
name = "dev"

[stages.gpu]
kind = "command"
run = "echo {device} $TSCPIPE_DEVICE > {out}/device.txt"
outputs = ["device.txt"]
accelerator = true
"#,
    );
    let out = p.run(&file);
    let m = out.summary.results[0].manifest.as_ref().unwrap();
    assert_eq!(blob(&p, &m.outputs["out/device.txt"].digest), "cpu cpu\n");
    assert!(m.key_inputs.env.as_deref() == Some("device=cpu"), "{:?}", m.key_inputs.env);
}

#[test]
fn a_command_past_its_time_limit_is_stopped() {
    let p = Project::new();
    let file = p.write(
        "slow.toml",
        r#"
[pipeline]
name = "slow"

[stages.slow]
kind = "command"
run = ["sleep", "30"]
resources = { time = "1s" }
"#,
    );
    let t = std::time::Instant::now();
    let (out, _) = p.try_run(&file).unwrap();
    assert!(t.elapsed().as_secs() < 15);
    assert!(failure(&out).contains("time limit"), "{}", failure(&out));
}

#[test]
fn placeholders_and_paths_are_checked_at_load_time_with_their_location() {
    let p = Project::new();
    p.write("m.py", "print(1)\n");
    let head = "[pipeline]\nname = \"bad\"\n\n[stages.load]\nkind = \"load\"\ndataset = \"Coffee\"\n\n[stages.m]\nkind = \"command\"\ninputs = { data = \"load\" }\n";
    let case = |body: &str| {
        let f = p.write("bad.toml", &format!("{head}{body}"));
        p.load_err(&f)
    };
    let e = case("run = [\"python3\", \"m.py\", \"{output}\"]\n");
    assert!(e.contains("unknown placeholder `{output}`") && e.contains("bad.toml:11"), "{e}");
    let e = case("run = [\"python3\", \"m.py\", \"{inputs.dta.train}\"]\n");
    assert!(e.contains("no input `dta`") && e.contains("its inputs: data"), "{e}");
    let e = case("run = [\"python3\", \"m.py\", \"{inputs.data.features.csv}\"]\n");
    assert!(e.contains("has no file `features.csv`") && e.contains("train, test"), "{e}");
    let e = case("run = [\"python3\", \"m.py\"]\ndeps = [\"m.py\", \"lib/\"]\n");
    assert!(e.contains("`lib/` does not exist") && e.contains("bad.toml:12"), "{e}");
}

/// A managed environment from a requirements file that installs a local wheel (no network):
/// created once, its interpreter runs the command, its `pip freeze` is in the key.
#[test]
fn a_managed_python_environment_is_created_once_and_keys_the_stage() {
    let p = Project::new();
    let wheel = make_wheel(&p.path("wheels"), "0.1");
    p.write("requirements.txt", &format!("--no-index\n{}\n", wheel.display()));
    let file = p.write(
        "env.toml",
        r#"
[pipeline]
name = "env"

[stages.m]
kind = "command"
run = ["python3", "-c", "import sys, tinypkg; open(sys.argv[1] + '/v.txt', 'w').write(tinypkg.VERSION + ' ' + sys.prefix)", "{out}"]
outputs = ["v.txt"]
python = { requirements = "requirements.txt" }
"#,
    );
    let out = p.run(&file);
    assert_eq!(ran(&out), vec!["m".to_string()]);
    let envs: Vec<PathBuf> = std::fs::read_dir(p.cache_dir().join("envs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|e| e.is_dir())
        .collect();
    assert_eq!(envs.len(), 1, "{envs:?}");
    let freeze = std::fs::read_to_string(envs[0].join("freeze.txt")).unwrap();
    assert!(freeze.contains("tinypkg"), "{freeze}");
    assert!(ran(&p.run(&file)).is_empty());
    // a new version of the package: a new environment, and the stage reruns
    let wheel = make_wheel(&p.path("wheels2"), "0.2");
    p.write("requirements.txt", &format!("--no-index\n{}\n", wheel.display()));
    assert_eq!(ran(&p.run(&file)), vec!["m".to_string()]);
    // an install that cannot succeed offline says which requirement failed
    p.write("requirements.txt", "--no-index\nsurely-not-a-package-xyz==1.0\n");
    let (out, _) = p.try_run(&file).unwrap();
    assert!(failure(&out).contains("surely-not-a-package-xyz"), "{}", failure(&out));
}

/// A minimal pure-Python wheel, `tinypkg`, written with Python's zipfile (pip installs a wheel
/// without building anything, so the test needs no network).
fn make_wheel(dir: &Path, version: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let script = format!(
        r#"
import zipfile, sys
name = "tinypkg-{version}-py3-none-any.whl"
with zipfile.ZipFile(sys.argv[1] + "/" + name, "w") as z:
    z.writestr("tinypkg/__init__.py", "VERSION = '{version}'\n")
    d = "tinypkg-{version}.dist-info/"
    z.writestr(d + "METADATA", "Metadata-Version: 2.1\nName: tinypkg\nVersion: {version}\n")
    z.writestr(d + "WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    z.writestr(d + "RECORD", "")
print(name)
"#
    );
    let out = std::process::Command::new("python3").arg("-c").arg(script).arg(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dir.join(String::from_utf8_lossy(&out.stdout).trim())
}

/// The same experiment as tsml-eval's, file for file: tscpipe's `resample` → `command` running
/// aeon 1.6's MiniRocket (examples/methods/aeon_classifier.py, in a managed environment) gives
/// the predictions tsml-eval's own `load_and_run_classification_experiment` wrote (aeon 1.1,
/// tests/data/command/make_tsml_reference.py) for GunPoint and ArrowHead, resamples 0-4.
/// Opt-in (TSCPIPE_TEST_AEON=1): the environment installs aeon from PyPI.
#[test]
fn aeon_cross_check() {
    if std::env::var("TSCPIPE_TEST_AEON").as_deref() != Ok("1") {
        eprintln!("skipped: set TSCPIPE_TEST_AEON=1 (installs aeon 1.6.0 from PyPI into the test's cache)");
        return;
    }
    let p = Project::new();
    let methods = repo().join("examples/methods");
    let file = p.write(
        "aeon.toml",
        &format!(
            r#"
[pipeline]
name = "aeon"

[matrix]
dataset = ["GunPoint", "ArrowHead"]
resample = {{ range = [0, 5] }}

[stages.load]
kind = "load"
dataset = "${{dataset}}"

[stages.resample]
kind = "resample"
inputs = {{ data = "load" }}
seed = "${{resample}}"

[stages.minirocket]
kind = "command"
inputs = {{ data = "resample" }}
run = ["python3", "{m}/aeon_classifier.py", "MiniRocketClassifier", "{{inputs.data.train}}", "{{inputs.data.test}}", "{{out}}", "--seed", "${{resample}}"]
python = {{ requirements = "{m}/requirements-aeon.txt" }}
produces = "predictions"
"#,
            m = methods.display()
        ),
    );
    let out = p.run(&file);
    let cache = tscpipe::cache::Cache::open(p.cache_dir()).unwrap();
    for ds in ["GunPoint", "ArrowHead"] {
        for k in 0..5 {
            let id = format!("minirocket[dataset={ds},resample={k}]");
            let r = out.summary.results.iter().find(|r| r.id == id).unwrap();
            let m = r.manifest.as_ref().unwrap();
            let ours: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(cache.blob_path(&m.outputs["predictions.json"].digest)).unwrap(),
            )
            .unwrap();
            let path = repo().join(format!("tests/data/command/tsml/MiniRocket/Predictions/{ds}/testResample{k}.csv"));
            let text = std::fs::read_to_string(&path).unwrap();
            let theirs = tscpipe::stats::tsml::ResultsFile::parse(&path.display().to_string(), &text).unwrap();
            // tsml-eval's class indices are the sorted labels'; ours are the dataset's classes
            let classes: Vec<String> = serde_json::from_value(ours["classes"].clone()).unwrap();
            let mut sorted = classes.clone();
            sorted.sort();
            let name = |v: &serde_json::Value| classes[v.as_u64().unwrap() as usize].clone();
            let ours_pred: Vec<String> = ours["predicted"].as_array().unwrap().iter().map(name).collect();
            let ours_truth: Vec<String> = ours["truth"].as_array().unwrap().iter().map(name).collect();
            let theirs_pred: Vec<String> = theirs.predicted.iter().map(|&i| sorted[i].clone()).collect();
            let theirs_truth: Vec<String> = theirs.truth.iter().map(|&i| sorted[i].clone()).collect();
            assert_eq!(ours_truth, theirs_truth, "{id}: TEST differs from tsml-eval's resample");
            assert_eq!(ours_pred, theirs_pred, "{id}: predictions differ");
        }
    }
}

#[test]
fn show_says_when_a_command_runs_under_a_shell() {
    let p = Project::new();
    let file = p.write(
        "sh.toml",
        "[pipeline]\nname = \"sh\"\n\n[stages.x]\nkind = \"command\"\nrun = \"echo hi > {out}/a.txt\"\noutputs = [\"a.txt\"]\n\n\
         [stages.y]\nkind = \"command\"\nrun = [\"true\"]\n",
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tscpipe")).arg("show").arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("runs under `sh -c`").count(), 1, "{text}");
}
