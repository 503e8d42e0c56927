//! The pair set: index pairs `(i, j)` over one split, with the labels they are derived from.

use serde::{Deserialize, Serialize};

use super::PairError;

/// The expanded training set of CNN-TS: instance `k` is `(x_i, x_j)` with `[i, j] = pairs[k]`,
/// its intermediate targets are `labels[i]`, `labels[j]` and its main target is
/// `labels[i] == labels[j]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairSet {
    /// Number of classes K.
    pub classes: usize,
    /// Class of every series of the split (index = series index).
    pub labels: Vec<u32>,
    /// The series that In2 ranges over (the representatives, or every series), ascending.
    pub partners: Vec<u32>,
    /// `[i, j]` index pairs, `i`-major in the order of eq. 1: every series `i` with every partner.
    pub pairs: Vec<[u32; 2]>,
}

/// How many instances a pair set has, overall and per class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairCounts {
    /// Instances `T_t`.
    pub total: usize,
    /// Same-class instances `T_s` (main target 1).
    pub same: usize,
    /// Different-class instances `T_d` (main target 0).
    pub different: usize,
    /// Instances per class of In1 (the targets of O_1).
    pub in1: Vec<usize>,
    /// Instances per class of In2 (the targets of O_2).
    pub in2: Vec<usize>,
}

impl PairCounts {
    /// Counts over the main target: `[different, same]` (class 0 = different, 1 = same).
    pub fn main(&self) -> [usize; 2] {
        [self.different, self.same]
    }

    /// What expanding `t_c` series per class against `m_c` partners per class gives:
    /// `T_s = Σ t_c·m_c`, `T_t = (Σ t_c)(Σ m_c)`. With every series as partner (`m = t`) and
    /// equal classes this is eq. 9 (`N_c t²`) and eq. 10 (`T_d = (N_c − 1) N_c t²`).
    pub fn expected(per_class: &[usize], partners_per_class: &[usize]) -> PairCounts {
        let n: usize = per_class.iter().sum();
        let m: usize = partners_per_class.iter().sum();
        let same = per_class.iter().zip(partners_per_class).map(|(t, m)| t * m).sum::<usize>();
        PairCounts {
            total: n * m,
            same,
            different: n * m - same,
            in1: per_class.iter().map(|t| t * m).collect(),
            in2: partners_per_class.iter().map(|p| p * n).collect(),
        }
    }
}

fn check_labels(labels: &[usize], classes: usize) -> Result<Vec<u32>, PairError> {
    if labels.is_empty() {
        return Err(PairError::Empty);
    }
    if u32::try_from(labels.len()).is_err() {
        return Err(PairError::TooMany(labels.len()));
    }
    labels
        .iter()
        .enumerate()
        .map(
            |(index, &label)| {
                if label < classes { Ok(label as u32) } else { Err(PairError::BadLabel { index, label, classes }) }
            },
        )
        .collect()
}

impl PairSet {
    /// All N² ordered pairs, `(x_i, x_i)` included (eq. 1).
    pub fn all(labels: &[usize], classes: usize) -> Result<PairSet, PairError> {
        let partners: Vec<usize> = (0..labels.len()).collect();
        PairSet::with_partners(labels, classes, &partners)
    }

    /// Every series paired with every partner: N × M instances.
    pub fn with_partners(labels: &[usize], classes: usize, partners: &[usize]) -> Result<PairSet, PairError> {
        let labels = check_labels(labels, classes)?;
        let n = labels.len();
        let mut partners: Vec<u32> = partners
            .iter()
            .map(|&j| if j < n { Ok(j as u32) } else { Err(PairError::BadIndex(j)) })
            .collect::<Result<_, _>>()?;
        partners.sort_unstable();
        partners.dedup();
        if partners.is_empty() {
            return Err(PairError::Empty);
        }
        let mut pairs = Vec::with_capacity(n * partners.len());
        for i in 0..n as u32 {
            pairs.extend(partners.iter().map(|&j| [i, j]));
        }
        Ok(PairSet { classes, labels, partners, pairs })
    }

    /// Number of instances.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Number of series of the split.
    pub fn n_series(&self) -> usize {
        self.labels.len()
    }

    /// Main target of instance `k`: 1 = same class, 0 = different.
    pub fn same(&self, k: usize) -> usize {
        let [i, j] = self.pairs[k];
        usize::from(self.labels[i as usize] == self.labels[j as usize])
    }

    /// `(c_i, c_j)` of instance `k`.
    pub fn classes_of(&self, k: usize) -> (usize, usize) {
        let [i, j] = self.pairs[k];
        (self.labels[i as usize] as usize, self.labels[j as usize] as usize)
    }

    /// Partner (representative) series per class.
    pub fn partners_per_class(&self) -> Vec<usize> {
        let mut c = vec![0; self.classes];
        for &j in &self.partners {
            c[self.labels[j as usize] as usize] += 1;
        }
        c
    }

    /// Counts by walking the stored pairs (not by formula).
    pub fn counts(&self) -> PairCounts {
        let mut in1 = vec![0; self.classes];
        let mut in2 = vec![0; self.classes];
        let mut same = 0;
        for &[i, j] in &self.pairs {
            let (a, b) = (self.labels[i as usize] as usize, self.labels[j as usize] as usize);
            in1[a] += 1;
            in2[b] += 1;
            same += usize::from(a == b);
        }
        PairCounts { total: self.pairs.len(), same, different: self.pairs.len() - same, in1, in2 }
    }

    /// Heap bytes held (pairs, labels, partners).
    pub fn memory_bytes(&self) -> usize {
        self.pairs.capacity() * std::mem::size_of::<[u32; 2]>()
            + (self.labels.capacity() + self.partners.capacity()) * std::mem::size_of::<u32>()
    }

    /// Compact, deterministic bytes (postcard: varint indices).
    pub fn to_bytes(&self) -> Result<Vec<u8>, PairError> {
        postcard::to_stdvec(self).map_err(|e| PairError::Decode(e.to_string()))
    }

    /// Reads [`PairSet::to_bytes`] output and checks every index.
    pub fn from_bytes(bytes: &[u8]) -> Result<PairSet, PairError> {
        let p: PairSet = postcard::from_bytes(bytes).map_err(|e| PairError::Decode(e.to_string()))?;
        let n = p.labels.len();
        if let Some((index, &l)) = p.labels.iter().enumerate().find(|(_, l)| **l as usize >= p.classes) {
            return Err(PairError::BadLabel { index, label: l as usize, classes: p.classes });
        }
        let bad = p.partners.iter().copied().chain(p.pairs.iter().flatten().copied()).find(|&i| i as usize >= n);
        if let Some(i) = bad {
            return Err(PairError::BadIndex(i as usize));
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(per_class: &[usize]) -> Vec<usize> {
        // interleaved, so class order and index order differ
        let mut out = Vec::new();
        let mut left = per_class.to_vec();
        while left.iter().any(|&l| l > 0) {
            for (c, l) in left.iter_mut().enumerate() {
                if *l > 0 {
                    out.push(c);
                    *l -= 1;
                }
            }
        }
        out
    }

    #[test]
    fn all_pairs_match_eqs_9_and_10_for_equal_classes() {
        for (nc, t) in [(2usize, 5usize), (3, 4), (5, 3), (10, 2)] {
            let set = PairSet::all(&labels(&vec![t; nc]), nc).unwrap();
            let c = set.counts();
            let big_t = nc * t;
            assert_eq!(c.total, big_t * big_t, "T_t = T²");
            assert_eq!(c.same, nc * t * t, "eq. 9: T_s = N_c t²");
            assert_eq!(c.different, (nc - 1) * nc * t * t, "eq. 10: T_d = (N_c − 1) N_c t²");
            // same-class pairs are the minority as soon as N_c > 2, balanced at N_c = 2
            assert_eq!(c.same < c.different, nc > 2);
            assert_eq!(c, PairCounts::expected(&vec![t; nc], &vec![t; nc]));
            // O_1 and O_2 see every class equally often
            assert!(c.in1.iter().all(|&x| x == t * big_t) && c.in2 == c.in1);
        }
    }

    #[test]
    fn unequal_classes_and_representatives() {
        let per_class = [7, 2, 4];
        let l = labels(&per_class);
        let set = PairSet::all(&l, 3).unwrap();
        assert_eq!(set.counts().same, 49 + 4 + 16);
        assert_eq!(set.counts().total, 169);
        // two representatives per class (the first two of each class): N × M
        let mut reps = Vec::new();
        for c in 0..3 {
            reps.extend(l.iter().enumerate().filter(|(_, x)| **x == c).map(|(i, _)| i).take(2));
        }
        let set = PairSet::with_partners(&l, 3, &reps).unwrap();
        assert_eq!(set.len(), 13 * 6);
        assert_eq!(set.partners_per_class(), vec![2, 2, 2]);
        let c = set.counts();
        assert_eq!(c, PairCounts::expected(&per_class, &[2, 2, 2]));
        assert_eq!(c.same, 7 * 2 + 2 * 2 + 4 * 2);
        assert_eq!(c.in2, vec![26, 26, 26]);
        // pair k's main target agrees with its labels
        for k in 0..set.len() {
            let (a, b) = set.classes_of(k);
            assert_eq!(set.same(k), usize::from(a == b));
        }
        // i-major order: the first M instances are series 0 with each partner
        assert!(set.pairs[..6].iter().all(|p| p[0] == 0));
    }

    #[test]
    fn round_trip_and_corrupt_bytes() {
        let set = PairSet::with_partners(&[0, 1, 1, 0, 2], 3, &[4, 0, 1, 0]).unwrap();
        assert_eq!(set.partners, vec![0, 1, 4], "sorted, deduplicated");
        let bytes = set.to_bytes().unwrap();
        assert_eq!(PairSet::from_bytes(&bytes).unwrap(), set);
        let mut bad = set.clone();
        bad.pairs[3] = [9, 0];
        assert_eq!(PairSet::from_bytes(&bad.to_bytes().unwrap()), Err(PairError::BadIndex(9)));
        assert!(PairSet::from_bytes(&bytes[..bytes.len() - 3]).is_err());
        assert!(matches!(PairSet::with_partners(&[0, 3], 2, &[0]), Err(PairError::BadLabel { index: 1, .. })));
        assert_eq!(PairSet::with_partners(&[0, 1], 2, &[2]), Err(PairError::BadIndex(2)));
        assert_eq!(PairSet::all(&[], 2), Err(PairError::Empty));
    }

    #[test]
    fn two_thousand_series_all_pairs_fit_in_32_mb() {
        let l: Vec<usize> = (0..2000).map(|i| i % 7).collect();
        let set = PairSet::all(&l, 7).unwrap();
        assert_eq!(set.len(), 4_000_000);
        assert!(set.memory_bytes() <= 32_100_000, "{} bytes", set.memory_bytes());
    }
}
