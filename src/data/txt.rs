//! Old UCR `.txt`: whitespace separated, label first written as a float (`1.0000000e+00`).

use std::path::Path;

use super::error::DataResult;
use super::format::Format;
use super::raw::RawFile;
use super::tsv::{parse_label_first, read_text};

/// Reads an old-style UCR `.txt` file.
pub fn read_txt(path: &Path) -> DataResult<RawFile> {
    let text = read_text(path)?;
    parse_txt(path, &text)
}

/// Parses old-style UCR `.txt` text (commas are accepted as separators too).
pub fn parse_txt(path: &Path, text: &str) -> DataResult<RawFile> {
    parse_label_first(path, text, Format::Txt, |line, out| {
        if line.contains(',') {
            out.extend(line.split(','));
        } else {
            out.extend(line.split_whitespace());
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_float_labels() {
        let f = parse_txt(Path::new("c.txt"), "   1.0000000e+00  -5.18e-01  2.0\n  0.0e+00 1 2\n").unwrap();
        assert_eq!(f.cases[0].label, "1.0000000e+00");
        assert_eq!(f.cases[0].dims[0], vec![-0.518, 2.0]);
        assert_eq!(f.cases[1].label, "0.0e+00");
    }
}
