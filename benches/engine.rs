//! Engine overhead: how long a fully cached `tscpipe run` and `tscpipe status` take as the
//! pipeline grows from 100 to 10,000 stage instances.
//!
//! Run: `cargo bench --bench engine` (add `-- 100 1000` to choose sizes). Each size builds a
//! pipeline `load → split[seed=0..n-1]` over a tiny generated dataset, runs it once to fill the
//! cache, then times the real binary (process start, parse, expand, key, verify, publish).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn write_dataset(dir: &Path) {
    let d = dir.join("data/Tiny");
    std::fs::create_dir_all(&d).unwrap();
    let mut train = String::new();
    for i in 0..6 {
        let label = i % 2;
        let vals: Vec<String> =
            (0..8).map(|t| format!("{:.3}", (t as f64 + i as f64 * 0.37).sin() + label as f64)).collect();
        train.push_str(&format!("{label}\t{}\n", vals.join("\t")));
    }
    std::fs::write(d.join("Tiny_TRAIN.tsv"), &train).unwrap();
    std::fs::write(d.join("Tiny_TEST.tsv"), &train).unwrap();
}

fn pipeline(n: usize) -> String {
    let seeds: Vec<String> = (0..n.saturating_sub(1)).map(|i| i.to_string()).collect();
    format!(
        "[pipeline]\nname = \"bench{n}\"\n\n[matrix]\nseed = [{}]\n\n[stages.load]\nkind = \"load\"\ndataset = \"Tiny\"\n\n\
         [stages.split]\nkind = \"split\"\ninputs = {{ data = \"load\" }}\nseed = \"${{seed}}\"\nfraction = 0.34\n",
        seeds.join(", ")
    )
}

fn time(cmd: &mut Command) -> f64 {
    let t = Instant::now();
    let out = cmd.output().expect("run tscpipe");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    t.elapsed().as_secs_f64()
}

fn main() {
    let bin = env!("CARGO_BIN_EXE_tscpipe");
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![100, 1000, 10000] } else { sizes };
    println!(
        "engine overhead, fully cached (best of 3), {} cores",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!("{:>9} {:>12} {:>12} {:>12}", "instances", "first run s", "cached run s", "status s");
    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        write_dataset(dir.path());
        let file = dir.path().join("p.toml");
        std::fs::write(&file, pipeline(n)).unwrap();
        let cmd = |sub: &str| {
            let mut c = Command::new(bin);
            c.current_dir(dir.path()).arg(sub).arg(&file).env("CI", "1");
            if sub == "run" {
                c.arg("-j").arg("2");
            }
            c
        };
        let first = time(&mut cmd("run"));
        let cached = (0..3).map(|_| time(&mut cmd("run"))).fold(f64::INFINITY, f64::min);
        let status = (0..3).map(|_| time(&mut cmd("status"))).fold(f64::INFINITY, f64::min);
        println!("{n:>9} {first:>12.2} {cached:>12.3} {status:>12.3}");
    }
}
