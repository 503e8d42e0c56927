//! Exact scores: a result is a ratio of integers (correct/total, or a decimal as written in a
//! table), so that equal accuracies are ties and zero differences are zero — never
//! floating-point near-misses that would change ranks and Wilcoxon statistics.

use std::cmp::Ordering;

/// A reduced fraction `num/den` with `den > 0`.
#[derive(Debug, Clone, Copy)]
pub struct Exact {
    num: i128,
    den: i128,
}

/// Decimal places kept when a value arrives as a float with no exact form (e.g. macro F1).
pub const FLOAT_DECIMALS: u32 = 10;

/// Binary GCD (Stein): no divisions, which for 128-bit integers are slow (reading a bake-off's
/// 67,200 results reduces as many fractions).
fn gcd(a: i128, b: i128) -> i128 {
    let (a, b) = (a.unsigned_abs(), b.unsigned_abs());
    let g = match (u64::try_from(a), u64::try_from(b)) {
        (Ok(a), Ok(b)) => u128::from(binary_gcd_u64(a, b)),
        _ => binary_gcd_u128(a, b),
    };
    // at most |i128::MIN|, which only arises for gcd(MIN, 0) or (MIN, MIN): saturate
    i128::try_from(g).unwrap_or(i128::MAX)
}

/// Stein's binary gcd, one copy per width (the u64 one is the fast path for small decimals).
macro_rules! binary_gcd {
    ($name:ident, $t:ty) => {
        fn $name(mut a: $t, mut b: $t) -> $t {
            if a == 0 || b == 0 {
                return a | b;
            }
            let shift = (a | b).trailing_zeros();
            a >>= a.trailing_zeros();
            loop {
                b >>= b.trailing_zeros();
                if a > b {
                    std::mem::swap(&mut a, &mut b);
                }
                b -= a;
                if b == 0 {
                    return a << shift;
                }
            }
        }
    };
}
binary_gcd!(binary_gcd_u64, u64);
binary_gcd!(binary_gcd_u128, u128);

impl Exact {
    /// `num/den`; `None` for a zero denominator.
    pub fn ratio(num: i128, den: i128) -> Option<Exact> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den).max(1);
        let s = if den < 0 { -1 } else { 1 };
        Some(Exact { num: s * num / g, den: s * den / g })
    }

    pub fn integer(v: i64) -> Exact {
        Exact { num: v as i128, den: 1 }
    }

    /// Accuracy from counts: `correct/total`.
    pub fn from_counts(correct: usize, total: usize) -> Option<Exact> {
        Exact::ratio(correct as i128, total as i128)
    }

    /// A decimal as written (`0.9133`, `-1.5`, `1e-3`, `95`); `None` if it is not one or has more
    /// than 18 significant decimals.
    pub fn parse_decimal(text: &str) -> Option<Exact> {
        let t = text.trim();
        let (mantissa, exp) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], t[i + 1..].parse::<i32>().ok()?),
            None => (t, 0),
        };
        let (neg, digits) = match mantissa.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
        };
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        if !int_part.bytes().chain(frac_part.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        // the digits as one integer, without building a string (tables hold many numbers)
        let mut num: i128 = 0;
        let mut significant = 0;
        for b in int_part.bytes().chain(frac_part.bytes()) {
            if num == 0 && b == b'0' {
                continue;
            }
            significant += 1;
            if significant > 30 {
                return None;
            }
            num = num * 10 + i128::from(b - b'0');
        }
        let scale = frac_part.len() as i32 - exp;
        let mut den: i128 = 1;
        if scale >= 0 {
            den = 10i128.checked_pow(scale as u32)?;
        } else {
            num = num.checked_mul(10i128.checked_pow((-scale) as u32)?)?;
        }
        if neg {
            num = -num;
        }
        let e = Exact::ratio(num, den)?;
        // Keep denominators small enough that differences and comparisons cannot overflow.
        (e.den <= 1_000_000_000_000_000_000).then_some(e)
    }

    /// A float rounded to `decimals` places (for metrics with no exact form).
    pub fn from_f64(v: f64, decimals: u32) -> Option<Exact> {
        if !v.is_finite() {
            return None;
        }
        Exact::parse_decimal(&format!("{v:.*}", decimals as usize))
    }

    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    pub fn is_zero(self) -> bool {
        self.num == 0
    }

    pub fn signum(self) -> i32 {
        self.num.signum() as i32
    }

    pub fn abs(self) -> Exact {
        Exact { num: self.num.abs(), den: self.den }
    }

    pub fn checked_add(self, other: Exact) -> Option<Exact> {
        let g = gcd(self.den, other.den).max(1);
        let den = (self.den / g).checked_mul(other.den)?;
        let num = self.num.checked_mul(other.den / g)?.checked_add(other.num.checked_mul(self.den / g)?)?;
        Exact::ratio(num, den)
    }

    /// The mean of `values` (exact where it fits, e.g. averaging resamples).
    pub fn mean(values: &[Exact]) -> Option<Exact> {
        let n = i128::try_from(values.len()).ok().filter(|&n| n > 0)?;
        let mut sum = Exact::integer(0);
        for v in values {
            sum = sum.checked_add(*v)?;
        }
        Exact::ratio(sum.num, sum.den.checked_mul(n)?)
    }
}

/// `self - other`, exact while it fits; otherwise rounded through f64.
impl std::ops::Sub for Exact {
    type Output = Exact;
    fn sub(self, other: Exact) -> Exact {
        self.checked_add(Exact { num: -other.num, den: other.den })
            .unwrap_or_else(|| Exact::from_f64(self.to_f64() - other.to_f64(), FLOAT_DECIMALS).unwrap_or(self))
    }
}

impl PartialEq for Exact {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Exact {}
impl PartialOrd for Exact {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Exact {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.num.checked_mul(other.den), other.num.checked_mul(self.den)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self.to_f64().total_cmp(&other.to_f64()),
        }
    }
}

impl std::fmt::Display for Exact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.den == 1 { write!(f, "{}", self.num) } else { write!(f, "{}/{}", self.num, self.den) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_exactly_and_compare_as_written() {
        let a = Exact::parse_decimal("0.9133").unwrap();
        assert_eq!(a, Exact::ratio(9133, 10000).unwrap());
        assert_eq!(Exact::parse_decimal("0.910").unwrap(), Exact::parse_decimal(".91").unwrap());
        assert_eq!(Exact::parse_decimal("1e-2").unwrap(), Exact::ratio(1, 100).unwrap());
        assert_eq!(Exact::parse_decimal("-2.5E1").unwrap(), Exact::integer(-25));
        for bad in ["", "-", ".", "abc", "1.2.3", "0x10", "nan", "1e"] {
            assert!(Exact::parse_decimal(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn differences_of_equal_gaps_are_ties_where_floats_are_not() {
        // In f64 these two gaps differ in the last bit; exactly they are equal.
        let (a, b, c, d) = (0.7, 0.6, 0.4, 0.3);
        assert_ne!(a - b, c - d);
        let e = |s: &str| Exact::parse_decimal(s).unwrap();
        assert_eq!(e("0.7") - e("0.6"), e("0.4") - e("0.3"));
        // counts: 137/150 vs 0.91333.. are different values, 2/4 and 1/2 are the same
        assert_eq!(Exact::from_counts(2, 4).unwrap(), Exact::from_counts(1, 2).unwrap());
        assert!(Exact::from_counts(137, 150).unwrap() > e("0.9133"));
        assert!((e("0.5") - e("0.5")).is_zero());
    }

    #[test]
    fn binary_gcd_agrees_with_euclid() {
        let euclid = |mut a: i128, mut b: i128| {
            (a, b) = (a.abs(), b.abs());
            while b != 0 {
                (a, b) = (b, a % b);
            }
            a
        };
        for (a, b) in [(0, 0), (0, 7), (12, 18), (-12, 18), (10i128.pow(16), 9306313131313132), (1 << 100, 3 << 90)] {
            assert_eq!(gcd(a, b), euclid(a, b), "{a} {b}");
        }
    }

    #[test]
    fn mean_of_resamples_is_exact() {
        let v = [Exact::from_counts(1, 3).unwrap(), Exact::from_counts(2, 3).unwrap()];
        assert_eq!(Exact::mean(&v).unwrap(), Exact::ratio(1, 2).unwrap());
        assert!(Exact::mean(&[]).is_none());
    }
}
