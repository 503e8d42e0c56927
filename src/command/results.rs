//! What a classifier command leaves in its output folder, read and checked: either
//! `predictions.csv` (a `prediction` column, optionally one probability column per class label)
//! or a tsml-eval results file anywhere below the folder (what `tsml_eval`'s
//! `run_classification_experiment` writes). Either becomes class indices of the dataset tscpipe
//! gave it, checked against its TEST split: one row per series, labels known from TRAIN,
//! probabilities that are numbers.

use std::path::{Path, PathBuf};

use super::CommandError;
use crate::stats::tsml::ResultsFile;

/// The file a command writes its predictions to, when not a tsml-eval results file.
pub const PREDICTIONS_CSV: &str = "predictions.csv";

/// What the predictions are checked against.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// Class names; index `i` is class `i` of the dataset.
    pub classes: &'a [String],
    /// The class indices present in TRAIN (what a classifier can know).
    pub train_classes: Vec<usize>,
    /// TEST's true class indices, in order.
    pub truth: &'a [usize],
}

/// Predictions of a command, as class indices of the dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandPredictions {
    pub predicted: Vec<usize>,
    /// One row per TEST series, one column per class of the dataset (0 for classes TRAIN lacks).
    pub probabilities: Option<Vec<Vec<f64>>>,
    pub fit_ms: Option<u64>,
    pub predict_ms: Option<u64>,
    /// The file they were read from.
    pub source: PathBuf,
}

/// Reads the predictions a command left in `out`.
pub fn read(out: &Path, exp: &Expected) -> Result<CommandPredictions, CommandError> {
    let csv = out.join(PREDICTIONS_CSV);
    if csv.is_file() {
        return read_csv(&csv, exp);
    }
    let mut found = Vec::new();
    collect_results_files(out, &mut found).map_err(|e| CommandError::io(out, e))?;
    found.sort();
    match found.as_slice() {
        [one] => read_tsml(one, exp),
        [] => Err(CommandError::output(
            out,
            "the command left neither `predictions.csv` nor a tsml-eval results file \
             (`…/testResample<k>.csv` or `testResults.csv`) in its output folder `{out}`",
        )),
        many => Err(CommandError::output(
            out,
            format!(
                "the command left {} tsml-eval results files; one is expected: {}",
                many.len(),
                many.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

fn collect_results_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect_results_files(&p, out)?;
        } else if p.file_name().and_then(|n| n.to_str()).is_some_and(is_results_name) {
            out.push(p);
        }
    }
    Ok(())
}

fn is_results_name(name: &str) -> bool {
    name == "testResults.csv"
        || name
            .strip_prefix("testResample")
            .and_then(|r| r.strip_suffix(".csv"))
            .is_some_and(|k| k.parse::<u64>().is_ok())
}

fn read_csv(path: &Path, exp: &Expected) -> Result<CommandPredictions, CommandError> {
    let text = std::fs::read_to_string(path).map_err(|e| CommandError::io(path, e))?;
    let err = |line: usize, m: String| CommandError::output(format!("{}:{line}", path.display()), m);
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| err(1, "the file is empty".into()))?;
    let header = crate::util::csv::split_line(header).ok_or_else(|| err(1, "an unterminated quoted field".into()))?;
    let pred_col = header
        .iter()
        .position(|h| h == "prediction")
        .ok_or_else(|| err(1, format!("no `prediction` column (columns: {})", header.join(", "))))?;
    let mut prob_cols = Vec::new(); // (column, class index)
    for (j, h) in header.iter().enumerate().filter(|(j, _)| *j != pred_col) {
        let class = train_class(exp, h).ok_or_else(|| {
            err(1, format!("column `{h}` is neither `prediction` nor a class label of TRAIN ({})", train_labels(exp)))
        })?;
        prob_cols.push((j, class));
    }
    if !prob_cols.is_empty() && prob_cols.len() != exp.train_classes.len() {
        return Err(err(
            1,
            format!("probability columns for some classes only; TRAIN's classes: {}", train_labels(exp)),
        ));
    }
    let mut predicted = Vec::new();
    let mut probabilities = Vec::new();
    for (i, line) in lines {
        let n = i + 1;
        let f = crate::util::csv::split_line(line).ok_or_else(|| err(n, "an unterminated quoted field".into()))?;
        if f.len() != header.len() {
            return Err(err(n, format!("{} fields; the header has {}", f.len(), header.len())));
        }
        let label = &f[pred_col];
        predicted.push(train_class(exp, label).ok_or_else(|| {
            err(n, format!("prediction `{label}` is not a class label of TRAIN ({})", train_labels(exp)))
        })?);
        if !prob_cols.is_empty() {
            let mut row = vec![0.0; exp.classes.len()];
            for &(j, c) in &prob_cols {
                row[c] = f[j].trim().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                    err(n, format!("probability `{}` of class `{}` is not a number", f[j], exp.classes[c]))
                })?;
            }
            probabilities.push(row);
        }
    }
    check_rows(path, predicted.len(), exp)?;
    let probabilities = (!prob_cols.is_empty()).then_some(probabilities);
    Ok(CommandPredictions { predicted, probabilities, fit_ms: None, predict_ms: None, source: path.to_path_buf() })
}

fn read_tsml(path: &Path, exp: &Expected) -> Result<CommandPredictions, CommandError> {
    let text = std::fs::read_to_string(path).map_err(|e| CommandError::io(path, e))?;
    let file = ResultsFile::parse(&path.display().to_string(), &text)
        .map_err(|e| CommandError::output(path, e.to_string()))?;
    let order = tsml_class_order(&file.comment, exp).map_err(|m| CommandError::output(path, m))?;
    if file.n_classes != order.len() {
        return Err(CommandError::output(
            path,
            format!("it names {} classes; TRAIN has {} ({})", file.n_classes, order.len(), train_labels(exp)),
        ));
    }
    check_rows(path, file.predicted.len(), exp)?;
    for (i, (&t, &want)) in file.truth.iter().zip(exp.truth).enumerate() {
        if order[t] != want {
            return Err(CommandError::output(
                path,
                format!(
                    "line {}: its true class `{}` is not TEST's (`{}`): the command read other data, or in another order",
                    i + 4,
                    exp.classes[order[t]],
                    exp.classes[want]
                ),
            ));
        }
    }
    let predicted = file.predicted.iter().map(|&p| order[p]).collect();
    let probabilities = file
        .probabilities
        .iter()
        .map(|row| {
            let mut full = vec![0.0; exp.classes.len()];
            for (j, &v) in row.iter().enumerate() {
                full[order[j]] = v;
            }
            full
        })
        .collect();
    let ms = |t: Option<u64>| t.map(|v| to_ms(v, &file.time_unit));
    Ok(CommandPredictions {
        predicted,
        probabilities: Some(probabilities),
        fit_ms: ms(file.fit_time),
        predict_ms: ms(file.predict_time),
        source: path.to_path_buf(),
    })
}

fn to_ms(v: u64, unit: &str) -> u64 {
    match unit.to_ascii_uppercase().as_str() {
        "NANOSECONDS" => v / 1_000_000,
        "MICROSECONDS" => v / 1_000,
        "SECONDS" => v * 1_000,
        _ => v,
    }
}

/// Dataset class index of each of a results file's class indices: from its encoder dictionary
/// (`Encoder dictionary: {'a': 0, 'b': 1}` in the first line's comment) when it has one, else in
/// the order tsml-eval encodes them (`np.unique` of TRAIN's labels: sorted as strings).
fn tsml_class_order(comment: &str, exp: &Expected) -> Result<Vec<usize>, String> {
    let mut sorted: Vec<usize> = exp.train_classes.clone();
    sorted.sort_by(|&a, &b| exp.classes[a].cmp(&exp.classes[b]));
    let Some(dict) = comment.split("Encoder dictionary:").nth(1) else { return Ok(sorted) };
    let pairs = parse_encoder_dictionary(dict)
        .ok_or_else(|| format!("cannot read its encoder dictionary `{}`", dict.trim()))?;
    let mut order = vec![usize::MAX; pairs.len()];
    for (label, idx) in pairs {
        let class = train_class(exp, &label).ok_or_else(|| {
            format!("its encoder dictionary names `{label}`, not a class of TRAIN ({})", train_labels(exp))
        })?;
        *order.get_mut(idx).ok_or_else(|| format!("encoder index {idx} out of range"))? = class;
    }
    if order.contains(&usize::MAX) {
        return Err("its encoder dictionary skips an index".into());
    }
    Ok(order)
}

/// `{'a': 0, "b's": 1}` (Python's `str` of a dict of str → int). Written by hand: it is the one
/// piece of Python syntax tsml-eval's files hold.
fn parse_encoder_dictionary(s: &str) -> Option<Vec<(String, usize)>> {
    let s = s.trim();
    let body = s.strip_prefix('{')?;
    let mut chars = body.chars().peekable();
    let mut out = Vec::new();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        match chars.next()? {
            '}' => return Some(out),
            q @ ('\'' | '"') => {
                let mut label = String::new();
                loop {
                    match chars.next()? {
                        '\\' => label.push(chars.next()?),
                        c if c == q => break,
                        c => label.push(c),
                    }
                }
                while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ':') {
                    chars.next();
                }
                let mut num = String::new();
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    num.push(chars.next()?);
                }
                out.push((label, num.parse().ok()?));
            }
            _ => return None,
        }
    }
}

fn train_class(exp: &Expected, label: &str) -> Option<usize> {
    let label = label.trim();
    exp.train_classes.iter().copied().find(|&c| exp.classes[c] == label)
}

fn train_labels(exp: &Expected) -> String {
    exp.train_classes.iter().map(|&c| exp.classes[c].as_str()).collect::<Vec<_>>().join(", ")
}

fn check_rows(path: &Path, rows: usize, exp: &Expected) -> Result<(), CommandError> {
    if rows != exp.truth.len() {
        return Err(CommandError::output(
            path,
            format!(
                "{rows} predictions for {} TEST series (one row per TEST series, in TEST's order)",
                exp.truth.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes() -> Vec<String> {
        vec!["2".into(), "10".into(), "b,c".into()]
    }

    fn expected(classes: &[String]) -> Expected<'_> {
        static TRUTH: [usize; 3] = [0, 1, 2];
        Expected { classes, train_classes: vec![0, 1, 2], truth: &TRUTH }
    }

    #[test]
    fn reads_a_predictions_csv_with_probabilities() {
        let dir = tempfile::tempdir().unwrap();
        let c = classes();
        std::fs::write(
            dir.path().join(PREDICTIONS_CSV),
            "prediction,2,10,\"b,c\"\n2,0.9,0.1,0\n10,0,1,0\n\"b,c\",0.2,0.2,0.6\n",
        )
        .unwrap();
        let p = read(dir.path(), &expected(&c)).unwrap();
        assert_eq!(p.predicted, vec![0, 1, 2]);
        assert_eq!(p.probabilities.unwrap()[2], vec![0.2, 0.2, 0.6]);
    }

    #[test]
    fn bad_csvs_say_where_and_what() {
        let dir = tempfile::tempdir().unwrap();
        let c = classes();
        let exp = expected(&c);
        let case = |text: &str| {
            std::fs::write(dir.path().join(PREDICTIONS_CSV), text).unwrap();
            read(dir.path(), &exp).unwrap_err().to_string()
        };
        assert!(case("label\n2\n").contains("no `prediction` column"));
        assert!(case("prediction\n2\n3\n10\n").contains(":3: prediction `3` is not a class label of TRAIN"));
        assert!(case("prediction\n2\n10\n").contains("2 predictions for 3 TEST series"));
        assert!(case("prediction,2\n2,1\n").contains("for some classes only"));
        let e = case("prediction,2,10,\"b,c\"\n2,x,0,0\n2,1,0,0\n2,1,0,0\n");
        assert!(e.contains(":2: probability `x` of class `2`"), "{e}");
        std::fs::remove_file(dir.path().join(PREDICTIONS_CSV)).unwrap();
        assert!(read(dir.path(), &exp).unwrap_err().to_string().contains("neither `predictions.csv`"));
    }

    fn tsml_file(comment: &str, rows: &str) -> String {
        format!("Toy,Mine,TEST,0,NANOSECONDS,{comment}\nparams\n0.66,5000000,2000000,-1,-1,3,N/A,-1,-1\n{rows}")
    }

    #[test]
    fn reads_tsml_files_by_their_encoder_dictionary_or_sorted_labels() {
        let dir = tempfile::tempdir().unwrap();
        let c = classes();
        let exp = expected(&c);
        let sub = dir.path().join("Mine/Predictions/Toy");
        std::fs::create_dir_all(&sub).unwrap();
        // without a dictionary: np.unique order of the labels as strings: "10", "2", "b,c"
        std::fs::write(sub.join("testResample0.csv"), tsml_file("x", "1,1,,0.1,0.9,0\n0,0,,1,0,0\n2,1,,0,0.5,0.5\n"))
            .unwrap();
        let p = read(dir.path(), &exp).unwrap();
        assert_eq!(p.predicted, vec![0, 1, 0]);
        assert_eq!(p.probabilities.as_ref().unwrap()[0], vec![0.9, 0.1, 0.0]);
        assert_eq!((p.fit_ms, p.predict_ms), (Some(5), Some(2)));
        // with one
        let dict = "Encoder dictionary: {'2': 0, '10': 1, 'b,c': 2}";
        std::fs::write(sub.join("testResample0.csv"), tsml_file(dict, "0,0,,1,0,0\n1,2,,0,0,1\n2,2,,0,0,1\n")).unwrap();
        assert_eq!(read(dir.path(), &exp).unwrap().predicted, vec![0, 2, 2]);
        // a file about other data
        std::fs::write(sub.join("testResample0.csv"), tsml_file(dict, "1,0,,1,0,0\n1,2,,0,0,1\n2,2,,0,0,1\n")).unwrap();
        let e = read(dir.path(), &exp).unwrap_err().to_string();
        assert!(e.contains("line 4: its true class `10` is not TEST's (`2`)"), "{e}");
    }

    #[test]
    fn encoder_dictionaries_parse_as_python_writes_them() {
        assert_eq!(
            parse_encoder_dictionary("{'a': 0, \"it's\": 1, 'x\\'y': 2}"),
            Some(vec![("a".into(), 0), ("it's".into(), 1), ("x'y".into(), 2)])
        );
        assert_eq!(parse_encoder_dictionary("{}"), Some(vec![]));
        assert_eq!(parse_encoder_dictionary("nope"), None);
        assert!(is_results_name("testResample12.csv") && !is_results_name("trainResample1.csv"));
    }
}
