//! "Did you mean …?" for misspelt keys, kinds, stage names and axes.

/// The candidate closest to `wrong`, if it is close enough to be a plausible typo.
pub fn nearest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lw = wrong.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&lw, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(wrong.len()) / 3).max(1) + usize::from(c.len() > 6))
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(nearest("epoch", ["epochs", "lr", "seed"]), Some("epochs"));
        assert_eq!(nearest("normalize", ["normalise", "load"]), Some("normalise"));
        assert_eq!(nearest("zzzz", ["epochs", "lr"]), None);
    }
}
