//! Loader tests: real archive files in every format, and one small bad file per class of error.

use std::path::{Path, PathBuf};

use super::*;

fn real(name: &str, file: &str) -> PathBuf {
    shared_datasets().join(name).join(file)
}

fn load_pair(name: &str, train: &str, test: &str) -> Dataset {
    load_files(name, &real(name, train), &real(name, test), &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn gunpoint_shapes_and_classes() {
    let ds = load_dataset(&DatasetRef::Name("GunPoint".into()), &[shared_datasets()], &LoadOptions::default()).unwrap();
    assert_eq!(ds.name, "GunPoint");
    assert_eq!(ds.classes, vec!["1", "2"]);
    assert_eq!((ds.train.n, ds.train.dims, ds.train.len), (50, 1, 150));
    assert_eq!((ds.test.n, ds.test.dims, ds.test.len), (150, 1, 150));
    assert_eq!(ds.train.values[0], -0.6478854);
    assert_eq!(ds.train.labels[0], 1);
    assert_eq!(ds.train.values.len(), 50 * 150);
}

#[test]
fn every_format_loads_identically() {
    let gp_tsv = load_pair("GunPoint", "GunPoint_TRAIN.tsv", "GunPoint_TEST.tsv");
    let gp_ts = load_pair("GunPoint", "GunPoint_TRAIN.ts", "GunPoint_TEST.ts");
    assert_eq!(gp_tsv, gp_ts);

    let ip_tsv = load_pair("ItalyPowerDemand", "ItalyPowerDemand_TRAIN.tsv", "ItalyPowerDemand_TEST.tsv");
    let ip_ts = load_pair("ItalyPowerDemand", "ItalyPowerDemand_TRAIN.ts", "ItalyPowerDemand_TEST.ts");
    assert_eq!(ip_tsv, ip_ts);
    assert_eq!((ip_tsv.train.n, ip_tsv.test.n, ip_tsv.train.len), (67, 1029, 24));

    let ah_tsv = load_pair("ArrowHead", "ArrowHead_TRAIN.tsv", "ArrowHead_TEST.tsv");
    let ah_ts = load_pair("ArrowHead", "ArrowHead_TRAIN.ts", "ArrowHead_TEST.ts");
    let ah_arff = load_pair("ArrowHead", "ArrowHead_TRAIN.arff", "ArrowHead_TEST.ts");
    assert_eq!(ah_tsv, ah_ts);
    assert_eq!(ah_tsv, ah_arff);
    assert_eq!(ah_tsv.classes, vec!["0", "1", "2"]);

    let cf_tsv = load_pair("Coffee", "Coffee_TRAIN.tsv", "Coffee_TEST.tsv");
    let cf_txt = load_pair("Coffee", "Coffee_TRAIN.txt", "Coffee_TEST.txt");
    assert_eq!(cf_tsv, cf_txt);
    assert_eq!(cf_txt.classes, vec!["0", "1"]);

    let bm_ts = load_pair("BasicMotions", "BasicMotions_TRAIN.ts", "BasicMotions_TEST.ts");
    let bm_arff = load_pair("BasicMotions", "BasicMotions_TRAIN.arff", "BasicMotions_TEST.ts");
    assert_eq!(bm_ts, bm_arff);
    assert_eq!((bm_ts.train.n, bm_ts.train.dims, bm_ts.train.len), (40, 6, 100));
    assert_eq!(bm_ts.classes, vec!["Standing", "Running", "Walking", "Badminton"]);
    assert_eq!(bm_ts.train.class_counts(4), vec![10, 10, 10, 10]);
}

#[test]
fn resolver_prefers_tsv_and_can_be_forced() {
    let dirs = [shared_datasets()];
    let r = resolve(&DatasetRef::Name("ArrowHead".into()), &dirs, None).unwrap();
    assert_eq!((r.train_format, r.test_format), (Format::Tsv, Format::Tsv));
    let r = resolve(&DatasetRef::Name("ArrowHead".into()), &dirs, Some(Format::Ts)).unwrap();
    assert_eq!(r.train, real("ArrowHead", "ArrowHead_TRAIN.ts"));
    let r = resolve(&DatasetRef::Name("BasicMotions".into()), &dirs, None).unwrap();
    assert_eq!(r.train_format, Format::Ts);
    assert!(resolve(&DatasetRef::Name("Coffee".into()), &dirs, Some(Format::Ts)).is_err());
}

#[test]
fn real_csv_and_parquet_match_tsv() {
    // Write GunPoint TRAIN/TEST as a wide CSV and as a long CSV, then compare.
    let gp = load_pair("GunPoint", "GunPoint_TRAIN.tsv", "GunPoint_TEST.tsv");
    let dir = tempfile::tempdir().unwrap();
    let write_wide = |split: &Split, p: &Path| {
        let mut s = String::from("label");
        (0..split.len).for_each(|t| s.push_str(&format!(",t{t}")));
        s.push('\n');
        for i in 0..split.n {
            s.push_str(&gp.classes[split.labels[i]]);
            split.series(i).iter().for_each(|v| s.push_str(&format!(",{v}")));
            s.push('\n');
        }
        std::fs::write(p, s).unwrap();
    };
    let write_long = |split: &Split, p: &Path| {
        let mut s = String::from("case_id,time,value,class\n");
        for i in (0..split.n).rev() {
            // rows of one series in reverse time order: the time column must sort them
            for t in (0..split.len).rev() {
                s.push_str(&format!(
                    "c{:03},{t},{},{}\n",
                    split.n - 1 - i,
                    split.series(i)[t],
                    gp.classes[split.labels[i]]
                ));
            }
        }
        std::fs::write(p, s).unwrap();
    };
    let (wtr, wte) = (dir.path().join("W_TRAIN.csv"), dir.path().join("W_TEST.csv"));
    write_wide(&gp.train, &wtr);
    write_wide(&gp.test, &wte);
    let w = load_files("GunPoint", &wtr, &wte, &LoadOptions::default()).unwrap();
    assert_eq!(w, gp);
    let (ltr, lte) = (dir.path().join("L_TRAIN.csv"), dir.path().join("L_TEST.csv"));
    write_long(&gp.train, &ltr);
    write_long(&gp.test, &lte);
    let l = load_files("GunPoint", &ltr, &lte, &LoadOptions::default()).unwrap();
    // Long files list series in reverse; values and labels must match series for series.
    let rev = |s: &Split| s.subset(&(0..s.n).rev().collect::<Vec<_>>());
    assert_eq!(l.train, rev(&gp.train));
    assert_eq!(l.test, rev(&gp.test));
}

// ---------------------------------------------------------------------------------------------
// Bad inputs: one small file per class of error.

struct Files(tempfile::TempDir);

impl Files {
    fn new() -> Self {
        Files(tempfile::tempdir().unwrap())
    }
    fn put(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
    fn load(&self, train: &str, test: &str, opts: &LoadOptions) -> DataResult<Dataset> {
        load_files("X", &self.0.path().join(train), &self.0.path().join(test), opts)
    }
}

const OK_TSV: &str = "1\t0.1\t0.2\t0.3\n2\t0.4\t0.5\t0.6\n";

fn expect_err(r: DataResult<Dataset>, kind: DataErrorKind, file: &str, line: Option<usize>) -> DataError {
    let e = r.expect_err("expected an error");
    assert_eq!(e.kind, kind, "{e}");
    assert_eq!(e.line, line, "{e}");
    assert!(e.path.ends_with(file), "{e}");
    let shown = e.to_string();
    assert!(shown.contains(file), "{shown}");
    if let Some(l) = line {
        assert!(shown.contains(&format!("{file}:{l}: ")), "{shown}");
    }
    e
}

#[test]
fn bad_ragged_row() {
    let f = Files::new();
    f.put("a_TRAIN.tsv", "1\t0.1\t0.2\t0.3\n2\t0.4\t0.5\n1\t1\t2\t3\n");
    f.put("a_TEST.tsv", OK_TSV);
    let e = expect_err(
        f.load("a_TRAIN.tsv", "a_TEST.tsv", &LoadOptions::default()),
        DataErrorKind::Length,
        "a_TRAIN.tsv",
        Some(2),
    );
    assert!(e.message.contains("2 values"), "{e}");
    // The same data loads under a padding policy.
    let opts = LoadOptions { length: LengthPolicy::PadLast, ..Default::default() };
    let ds = f.load("a_TRAIN.tsv", "a_TEST.tsv", &opts).unwrap();
    assert_eq!(ds.train.series(1), &[0.4, 0.5, 0.5]);
    // .ts declaring equal length: always an error.
    f.put(
        "b_TRAIN.ts",
        "@problemName b\n@univariate true\n@equalLength true\n@seriesLength 3\n@classLabel true 1 2\n@data\n1,2,3:1\n1,2:2\n",
    );
    expect_err(f.load("b_TRAIN.ts", "b_TRAIN.ts", &opts), DataErrorKind::Ragged, "b_TRAIN.ts", Some(8));
}

#[test]
fn bad_non_numeric() {
    let f = Files::new();
    f.put("a_TRAIN.tsv", OK_TSV);
    f.put("a_TEST.tsv", "1\t0.1\t0.2\t0.3\n2\t0.4\t1.2x\t0.6\n");
    let e = expect_err(
        f.load("a_TRAIN.tsv", "a_TEST.tsv", &LoadOptions::default()),
        DataErrorKind::NonNumeric,
        "a_TEST.tsv",
        Some(2),
    );
    assert!(e.to_string().ends_with("a_TEST.tsv:2: non-numeric value \"1.2x\" in column 3"), "{e}");
    f.put("b_TRAIN.txt", "  1.0e+00  0.5  abc\n");
    let e = expect_err(
        f.load("b_TRAIN.txt", "b_TRAIN.txt", &LoadOptions::default()),
        DataErrorKind::NonNumeric,
        "b_TRAIN.txt",
        Some(1),
    );
    assert!(e.message.contains("\"abc\""), "{e}");
}

#[test]
fn bad_empty_files() {
    let f = Files::new();
    f.put("a_TRAIN.tsv", "");
    f.put("a_TEST.tsv", OK_TSV);
    expect_err(f.load("a_TRAIN.tsv", "a_TEST.tsv", &LoadOptions::default()), DataErrorKind::Empty, "a_TRAIN.tsv", None);
    f.put("b_TRAIN.ts", "# only a header\n@problemName b\n@classLabel true 1 2\n@data\n\n");
    expect_err(f.load("b_TRAIN.ts", "a_TEST.tsv", &LoadOptions::default()), DataErrorKind::Empty, "b_TRAIN.ts", None);
    f.put("c_TRAIN.csv", "");
    let e = f.load("c_TRAIN.csv", "a_TEST.tsv", &LoadOptions::default()).unwrap_err();
    assert!(matches!(e.kind, DataErrorKind::Empty | DataErrorKind::Table), "{e}");
}

#[test]
fn bad_class_only_in_test() {
    let f = Files::new();
    f.put("a_TRAIN.tsv", OK_TSV);
    f.put("a_TEST.tsv", "1\t0.1\t0.2\t0.3\n2.0\t0.1\t0.2\t0.3\n3\t0.4\t0.5\t0.6\n3\t0.4\t0.5\t0.6\n");
    let e = expect_err(
        f.load("a_TRAIN.tsv", "a_TEST.tsv", &LoadOptions::default()),
        DataErrorKind::UnknownClass,
        "a_TEST.tsv",
        Some(3),
    );
    assert!(e.message.contains("\"3\""), "{e}");
}

#[test]
fn bad_missing_values() {
    let f = Files::new();
    let head = "@problemName m\n@missing false\n@univariate true\n@classLabel true 1 2\n@data\n";
    f.put("a_TRAIN.ts", &format!("{head}1,2,3:1\n1,?,3:2\n"));
    let e = expect_err(
        f.load("a_TRAIN.ts", "a_TRAIN.ts", &LoadOptions::default()),
        DataErrorKind::Missing,
        "a_TRAIN.ts",
        Some(7),
    );
    assert!(e.message.contains("@missing false"), "{e}");
    // Declared missing values are interpolated.
    f.put("b_TRAIN.ts", &format!("{}1,2,3:1\n1,?,3:2\n", head.replace("@missing false", "@missing true")));
    let ds = f.load("b_TRAIN.ts", "b_TRAIN.ts", &LoadOptions::default()).unwrap();
    assert_eq!(ds.train.series(1), &[1.0, 2.0, 3.0]);
    // NaN inside a .tsv series (not trailing padding): error unless allowed.
    f.put("c_TRAIN.tsv", "1\t0.1\tNaN\t0.3\n2\t0.4\t0.5\t0.6\n");
    expect_err(
        f.load("c_TRAIN.tsv", "c_TRAIN.tsv", &LoadOptions::default()),
        DataErrorKind::Missing,
        "c_TRAIN.tsv",
        Some(1),
    );
    let opts = LoadOptions { missing: MissingPolicy::Interpolate, ..Default::default() };
    let ds = f.load("c_TRAIN.tsv", "c_TRAIN.tsv", &opts).unwrap();
    assert!((ds.train.series(0)[1] - 0.2).abs() < 1e-15);
}

#[test]
fn variable_length_nan_padding() {
    let f = Files::new();
    f.put("v_TRAIN.tsv", "1\t1\t2\t3\t4\n2\t1\t2\tNaN\tNaN\n");
    f.put("v_TEST.tsv", "1\t1\t2\t3\tNaN\n");
    let e = expect_err(
        f.load("v_TRAIN.tsv", "v_TEST.tsv", &LoadOptions::default()),
        DataErrorKind::Length,
        "v_TRAIN.tsv",
        Some(2),
    );
    assert!(e.message.contains("length policy"), "{e}");
    let load = |p| f.load("v_TRAIN.tsv", "v_TEST.tsv", &LoadOptions { length: p, ..Default::default() }).unwrap();
    let ds = load(LengthPolicy::PadZero);
    assert_eq!(ds.train.series(1), &[1.0, 2.0, 0.0, 0.0]);
    assert_eq!(ds.test.series(0), &[1.0, 2.0, 3.0, 0.0]);
    let ds = load(LengthPolicy::Truncate);
    assert_eq!((ds.train.len, ds.test.series(0)), (2, &[1.0, 2.0][..]));
    let ds = load(LengthPolicy::Resample { len: 3 });
    assert_eq!(ds.train.series(1), &[1.0, 1.5, 2.0]);
    assert_eq!(ds.train.series(0), &[1.0, 2.5, 4.0]);
    // Variable-length multivariate .ts.
    f.put(
        "m_TRAIN.ts",
        "@problemName m\n@univariate false\n@dimensions 2\n@equalLength false\n@classLabel true a b\n@data\n\
         1,2,3:4,5,6:a\n1,2:3,4:b\n",
    );
    let opts = LoadOptions { length: LengthPolicy::PadLast, ..Default::default() };
    let ds = f.load("m_TRAIN.ts", "m_TRAIN.ts", &opts).unwrap();
    assert_eq!(ds.train.series(1), &[1.0, 2.0, 2.0, 3.0, 4.0, 4.0]);
}

#[test]
fn bad_header_inconsistencies() {
    let f = Files::new();
    f.put(
        "a_TRAIN.ts",
        "@problemName a\n@univariate false\n@dimensions 6\n@equalLength true\n@classLabel true x y\n@data\n1,2:3,4:5,6:x\n",
    );
    let e = expect_err(
        f.load("a_TRAIN.ts", "a_TRAIN.ts", &LoadOptions::default()),
        DataErrorKind::Header,
        "a_TRAIN.ts",
        Some(7),
    );
    assert!(e.message.contains("@dimensions 6") && e.message.contains("3 dimension"), "{e}");
    f.put("b_TRAIN.ts", "@problemName b\n@univariate true\n@classLabel true x y\n@data\n1,2:3,4:x\n");
    expect_err(
        f.load("b_TRAIN.ts", "b_TRAIN.ts", &LoadOptions::default()),
        DataErrorKind::Header,
        "b_TRAIN.ts",
        Some(5),
    );
    f.put("c_TRAIN.ts", "@problemName c\n@classLabel true x y\n@data\n1,2:x\n1,2:z\n");
    expect_err(
        f.load("c_TRAIN.ts", "c_TRAIN.ts", &LoadOptions::default()),
        DataErrorKind::Header,
        "c_TRAIN.ts",
        Some(5),
    );
    f.put("d_TRAIN.ts", "@problemName d\n@classLabel true x y\n@seriesLength 3\n@equalLength true\n@data\n1,2:x\n");
    expect_err(
        f.load("d_TRAIN.ts", "d_TRAIN.ts", &LoadOptions::default()),
        DataErrorKind::Ragged,
        "d_TRAIN.ts",
        Some(6),
    );
    // TRAIN/TEST dimension mismatch.
    f.put("e_TRAIN.ts", "@problemName e\n@classLabel true x\n@data\n1,2:3,4:x\n");
    f.put("e_TEST.ts", "@problemName e\n@classLabel true x\n@data\n1,2:x\n");
    expect_err(f.load("e_TRAIN.ts", "e_TEST.ts", &LoadOptions::default()), DataErrorKind::Header, "e_TEST.ts", Some(4));
}

#[test]
fn mixed_numeric_label_forms_are_one_class() {
    let f = Files::new();
    f.put("a_TRAIN.tsv", "-1\t1\t2\n1\t3\t4\n");
    f.put("a_TEST.txt", "  1.0000000e+00  1 2\n -1.0000000e+00 3 4\n");
    let ds = f.load("a_TRAIN.tsv", "a_TEST.txt", &LoadOptions::default()).unwrap();
    assert_eq!(ds.classes, vec!["-1", "1"]);
    assert_eq!(ds.test.labels, vec![1, 0]);
}

#[test]
fn split_and_normalise_real() {
    let mut ds = load_pair("GunPoint", "GunPoint_TRAIN.tsv", "GunPoint_TEST.tsv");
    split_validation(&mut ds, 0.2, 42).unwrap();
    let v = ds.validation.as_ref().unwrap();
    assert_eq!((ds.train.n, v.n), (40, 10));
    assert!(ds.train.class_counts(2).iter().all(|&c| c > 0));
    normalise(&mut ds, Normalisation::PerSeries);
    let (m, s) = normalise::mean_std(ds.test.series(3).iter().copied());
    assert!(m.abs() < 1e-12 && (s - 1.0).abs() < 1e-6);
}
