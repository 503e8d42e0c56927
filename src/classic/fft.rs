//! A small FFT for the spectral features: iterative radix-2 for powers of two, Bluestein's
//! chirp-z for any other length. Hand-written because the FFT crates (rustfft, realfft) switch on
//! `num-complex`'s default features, which would rebuild the whole burn stack.

use std::f64::consts::PI;

/// A complex number, just enough for the transforms here.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct C {
    pub re: f64,
    pub im: f64,
}

impl C {
    pub fn new(re: f64, im: f64) -> C {
        C { re, im }
    }
    /// `e^{iθ}`.
    fn cis(theta: f64) -> C {
        let (s, c) = theta.sin_cos();
        C::new(c, s)
    }
    fn mul(self, o: C) -> C {
        C::new(self.re * o.re - self.im * o.im, self.re * o.im + self.im * o.re)
    }
    fn add(self, o: C) -> C {
        C::new(self.re + o.re, self.im + o.im)
    }
    fn sub(self, o: C) -> C {
        C::new(self.re - o.re, self.im - o.im)
    }
    fn conj(self) -> C {
        C::new(self.re, -self.im)
    }
    pub fn norm_sqr(self) -> f64 {
        self.re * self.re + self.im * self.im
    }
}

/// In-place forward FFT (`X_k = Σ x_t e^{−2πi kt/n}`) of a power-of-two length.
fn fft_pow2(a: &mut [C]) {
    let n = a.len();
    if n <= 1 {
        return;
    }
    debug_assert!(n.is_power_of_two());
    let bits = n.trailing_zeros();
    for i in 0..n {
        let j = i.reverse_bits() >> (usize::BITS - bits);
        if i < j {
            a.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= n {
        // Twiddles computed directly (not by recurrence) to keep rounding at one ulp-ish.
        let tw: Vec<C> = (0..len / 2).map(|j| C::cis(-2.0 * PI * j as f64 / len as f64)).collect();
        for start in (0..n).step_by(len) {
            for j in 0..len / 2 {
                let u = a[start + j];
                let v = a[start + j + len / 2].mul(tw[j]);
                a[start + j] = u.add(v);
                a[start + j + len / 2] = u.sub(v);
            }
        }
        len <<= 1;
    }
}

/// In-place inverse FFT (with the `1/n`) of a power-of-two length.
fn ifft_pow2(a: &mut [C]) {
    a.iter_mut().for_each(|c| *c = c.conj());
    fft_pow2(a);
    let n = a.len() as f64;
    a.iter_mut().for_each(|c| *c = C::new(c.re / n, -c.im / n));
}

/// The discrete Fourier transform of a real series, all `n` bins (what `np.fft.fft` returns).
pub fn dft(x: &[f64]) -> Vec<C> {
    let n = x.len();
    if n.is_power_of_two() || n <= 1 {
        let mut a: Vec<C> = x.iter().map(|&v| C::new(v, 0.0)).collect();
        fft_pow2(&mut a);
        return a;
    }
    // Bluestein: kt = (k² + t² − (k − t)²) / 2 turns the DFT into a convolution with a chirp.
    // The chirp's angle uses k² mod 2n so that it stays exact for long series.
    let chirp: Vec<C> = (0..n).map(|k| C::cis(-PI * ((k * k) % (2 * n)) as f64 / n as f64)).collect();
    let m = (2 * n - 1).next_power_of_two();
    let mut a = vec![C::default(); m];
    for t in 0..n {
        a[t] = chirp[t].mul(C::new(x[t], 0.0));
    }
    let mut b = vec![C::default(); m];
    b[0] = chirp[0].conj();
    for k in 1..n {
        b[k] = chirp[k].conj();
        b[m - k] = chirp[k].conj();
    }
    fft_pow2(&mut a);
    fft_pow2(&mut b);
    for (u, v) in a.iter_mut().zip(&b) {
        *u = u.mul(*v);
    }
    ifft_pow2(&mut a);
    (0..n).map(|k| chirp[k].mul(a[k])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(x: &[f64]) -> Vec<C> {
        let n = x.len();
        (0..n)
            .map(|k| {
                x.iter().enumerate().fold(C::default(), |acc, (t, &v)| {
                    acc.add(C::cis(-2.0 * PI * ((k * t) % n) as f64 / n as f64).mul(C::new(v, 0.0)))
                })
            })
            .collect()
    }

    #[test]
    fn matches_the_definition_for_many_lengths() {
        for n in [1, 2, 3, 5, 8, 24, 100, 150, 251, 256, 286] {
            let x: Vec<f64> = (0..n).map(|t| ((t * 37 % 101) as f64 * 0.31).sin() + 0.1 * t as f64).collect();
            let (got, want) = (dft(&x), naive(&x));
            let scale = x.iter().map(|v| v.abs()).sum::<f64>().max(1.0);
            for (g, w) in got.iter().zip(&want) {
                assert!(g.sub(*w).norm_sqr().sqrt() < 1e-11 * scale, "n = {n}: {g:?} vs {w:?}");
            }
        }
    }
}
