//! The `command` stage's own cost: what tscpipe adds around a researcher's program (writing the
//! data files, starting the child, reading its predictions, committing), and a fully cached run.
//!
//! Run: `cargo bench --bench command` (add `-- N` for the number of command instances, 20 by
//! default). Three measurements, each on a fresh cache, with the real binary:
//! 1. overhead per instance on a 1,000 × 500 dataset (TRAIN and TEST 1,000 series each, length
//!    500): `load → command[seed=0..N-1]` whose child only copies a predictions file, minus the
//!    same pipeline without the command, minus the child run alone, over N;
//! 2. the plain-Python nearest centroid (examples/methods) over N resamples of GunPoint run by
//!    tscpipe, beside the loop a user would otherwise write (`for k …; python3 … ; done` on files
//!    written beforehand): the ratio;
//! 3. `run` of 1,000 cached command instances.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn write_dataset(dir: &Path, n: usize, len: usize) {
    let d = dir.join("data/Big");
    std::fs::create_dir_all(&d).unwrap();
    for split in ["TRAIN", "TEST"] {
        let mut text = String::with_capacity(n * len * 8);
        for i in 0..n {
            let label = i % 2;
            text.push_str(&label.to_string());
            for t in 0..len {
                let v = ((t * 7 + i * 13) as f64 * 0.01).sin() + label as f64 * 0.5;
                text.push_str(&format!("\t{v:.6}"));
            }
            text.push('\n');
        }
        std::fs::write(d.join(format!("Big_{split}.tsv")), text).unwrap();
    }
    let mut preds = String::from("prediction\n");
    for i in 0..n {
        preds.push_str(&format!("{}\n", i % 2));
    }
    std::fs::write(dir.join("predictions.csv"), preds).unwrap();
}

fn overhead_pipeline(n: usize, with_command: bool) -> String {
    let seeds: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let mut s = format!(
        "[pipeline]\nname = \"cmd\"\n\n[matrix]\nseed = [{}]\n\n[stages.load]\nkind = \"load\"\ndataset = \"Big\"\n",
        seeds.join(", ")
    );
    if with_command {
        // the child only copies a predictions file; tscpipe still writes both splits for it
        s.push_str(
            "\n[stages.cmd]\nkind = \"command\"\ninputs = { data = \"load\" }\nforeach = [\"seed\"]\n\
             run = [\"sh\", \"-c\", \"cp predictions.csv $1/predictions.csv\", \"sh\", \"{out}\", \"{inputs.data.train}\", \"{inputs.data.test}\", \"${seed}\"]\n\
             produces = \"predictions\"\n",
        );
    }
    s
}

fn time(cmd: &mut Command) -> f64 {
    let t = Instant::now();
    let out = cmd.output().expect("run");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    t.elapsed().as_secs_f64()
}

fn tscpipe(dir: &Path, file: &Path, cache: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tscpipe"));
    c.current_dir(dir).arg("run").arg(file).arg("-j").arg("1").arg("--cache-dir").arg(cache).env("CI", "1");
    c
}

fn overhead(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path(), 1000, 500);
    let with = dir.path().join("with.toml");
    let without = dir.path().join("without.toml");
    std::fs::write(&with, overhead_pipeline(n, true)).unwrap();
    std::fs::write(&without, overhead_pipeline(n, false)).unwrap();
    let t_with = time(&mut tscpipe(dir.path(), &with, "c1"));
    let t_without = time(&mut tscpipe(dir.path(), &without, "c2"));
    let out = dir.path().join("o");
    std::fs::create_dir_all(&out).unwrap();
    let t = Instant::now();
    for _ in 0..n {
        let st = Command::new("sh")
            .arg("-c")
            .arg("cp predictions.csv $1/predictions.csv")
            .arg("sh")
            .arg(&out)
            .current_dir(dir.path())
            .status()
            .unwrap();
        assert!(st.success());
    }
    let t_child = t.elapsed().as_secs_f64();
    let per = (t_with - t_without - t_child) / n as f64 * 1000.0;
    println!("1. overhead per command instance, 1,000 × 500 (TRAIN and TEST), {n} instances: {per:.1} ms");
    println!("   (run with commands {t_with:.2} s, without {t_without:.2} s, the children alone {t_child:.3} s)");
    let cached = (0..3).map(|_| time(&mut tscpipe(dir.path(), &with, "c1"))).fold(f64::INFINITY, f64::min);
    println!("   cached rerun of those {} instances: {cached:.3} s", n + 1);
}

fn byo_pipeline(n: usize, repo: &Path) -> String {
    format!(
        "[pipeline]\nname = \"byo\"\n\n[matrix]\nresample = {{ range = [0, {n}] }}\n\n\
         [stages.load]\nkind = \"load\"\ndataset = \"GunPoint\"\n\n\
         [stages.resample]\nkind = \"resample\"\ninputs = {{ data = \"load\" }}\nseed = \"${{resample}}\"\n\n\
         [stages.centroid]\nkind = \"command\"\ninputs = {{ data = \"resample\" }}\n\
         run = [\"python3\", \"{m}/nearest_centroid.py\", \"{{inputs.data.train}}\", \"{{inputs.data.test}}\", \"{{out}}\"]\n\
         deps = [\"{m}/nearest_centroid.py\", \"{m}/tsclib/\"]\nproduces = \"predictions\"\n",
        m = repo.join("examples/methods").display()
    )
}

fn versus_a_loop(n: usize) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("byo.toml");
    std::fs::write(&file, byo_pipeline(n, repo)).unwrap();
    // the files the loop reads: written by a run whose command only keeps them
    let t_tscpipe = time(&mut tscpipe(dir.path(), &file, "c1"));
    let data = repo.join("data/GunPoint");
    let out = dir.path().join("o");
    std::fs::create_dir_all(&out).unwrap();
    let script = repo.join("examples/methods/nearest_centroid.py");
    let t = Instant::now();
    for _ in 0..n {
        let st = Command::new("python3")
            .arg(&script)
            .arg(data.join("GunPoint_TRAIN.ts"))
            .arg(data.join("GunPoint_TEST.ts"))
            .arg(&out)
            .status()
            .unwrap();
        assert!(st.success());
    }
    let t_loop = t.elapsed().as_secs_f64();
    println!(
        "2. nearest centroid (Python) on {n} resamples of GunPoint: tscpipe run {t_tscpipe:.2} s (load, {n} resamples, \
         {n} commands), a shell loop over the same script {t_loop:.2} s: ratio {:.2}",
        t_tscpipe / t_loop
    );
}

fn cached_thousand() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data/Tiny");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("Tiny_TRAIN.tsv"), "0\t1\t2\n1\t3\t4\n").unwrap();
    std::fs::write(d.join("Tiny_TEST.tsv"), "0\t1\t2\n1\t3\t4\n").unwrap();
    let seeds: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
    let file = dir.path().join("k.toml");
    std::fs::write(
        &file,
        format!(
            "[pipeline]\nname = \"k\"\n\n[matrix]\nseed = [{}]\n\n[stages.load]\nkind = \"load\"\ndataset = \"Tiny\"\n\n\
             [stages.cmd]\nkind = \"command\"\ninputs = {{ data = \"load\" }}\nforeach = [\"seed\"]\n\
             run = [\"sh\", \"-c\", \"echo $1 > $2/seed.txt\", \"sh\", \"${{seed}}\", \"{{out}}\"]\noutputs = [\"seed.txt\"]\n",
            seeds.join(", ")
        ),
    )
    .unwrap();
    let t_first = time(&mut tscpipe(dir.path(), &file, "c"));
    let cached = (0..3).map(|_| time(&mut tscpipe(dir.path(), &file, "c"))).fold(f64::INFINITY, f64::min);
    println!("3. 1,000 command instances: first run {t_first:.1} s, cached run {cached:.3} s (best of 3)");
}

fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(20);
    println!("command stage, {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    overhead(n);
    versus_a_loop(n);
    cached_thousand();
}
