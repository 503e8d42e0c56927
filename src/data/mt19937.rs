//! NumPy's legacy `RandomState`: the MT19937 generator, its integer seeding and the bounded
//! integers that `RandomState.shuffle` draws.
//!
//! Hand-written because reproducing aeon's and tsml-eval's resamples needs NumPy's exact stream,
//! and no crate reproduces `RandomState` bit for bit: `rand_mt` has the same core generator but not
//! NumPy's `random_interval` (masked rejection on 32-bit draws) nor its shuffle order. Written
//! from NumPy's sources: `random/src/mt19937/mt19937.c` (`mt19937_seed`, `mt19937_gen`, the
//! tempering in `mt19937_next`), `random/_mt19937.pyx` (`_legacy_seeding`: an integer seed in
//! `[0, 2**32)` goes to `mt19937_seed`), `random/src/distributions/distributions.c`
//! (`random_interval`) and `random/mtrand.pyx` (`RandomState.shuffle`: Fisher–Yates from the end,
//! `j = random_interval(i)` for `i = n-1 … 1`).

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// `numpy.random.RandomState(seed)` for an integer seed, as far as shuffling needs it.
#[derive(Clone)]
pub struct RandomState {
    key: [u32; N],
    pos: usize,
}

impl std::fmt::Debug for RandomState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RandomState").field("pos", &self.pos).finish_non_exhaustive()
    }
}

impl RandomState {
    /// `RandomState(seed)`: Knuth's initialisation of the reference implementation
    /// (`init_genrand`), which is what NumPy's `mt19937_seed` does. NumPy accepts integer
    /// seeds in `[0, 2**32)` only, which the `u32` enforces.
    pub fn new(seed: u32) -> RandomState {
        let mut key = [0u32; N];
        let mut s = seed;
        for (pos, k) in key.iter_mut().enumerate() {
            *k = s;
            s = 1_812_433_253u32.wrapping_mul(s ^ (s >> 30)).wrapping_add(pos as u32 + 1);
        }
        RandomState { key, pos: N }
    }

    /// Regenerates the 624 words (`mt19937_gen`).
    fn generate(&mut self) {
        let twist = |a: u32, b: u32| -> u32 {
            let y = (a & UPPER_MASK) | (b & LOWER_MASK);
            (y >> 1) ^ if y & 1 == 1 { MATRIX_A } else { 0 }
        };
        for i in 0..N - M {
            self.key[i] = self.key[i + M] ^ twist(self.key[i], self.key[i + 1]);
        }
        for i in N - M..N - 1 {
            self.key[i] = self.key[i + M - N] ^ twist(self.key[i], self.key[i + 1]);
        }
        self.key[N - 1] = self.key[M - 1] ^ twist(self.key[N - 1], self.key[0]);
        self.pos = 0;
    }

    /// The next tempered 32-bit output (`mt19937_next32`).
    pub fn next_u32(&mut self) -> u32 {
        if self.pos == N {
            self.generate();
        }
        let mut y = self.key[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// `mt19937_next64`: two 32-bit outputs, the first in the high half.
    pub fn next_u64(&mut self) -> u64 {
        let hi = self.next_u32() as u64;
        (hi << 32) | self.next_u32() as u64
    }

    /// `random_interval(max)`: a uniform integer in `[0, max]` by masked rejection, on 32-bit
    /// draws when `max` fits in 32 bits (always, for shuffles of fewer than 2**32 items).
    pub fn interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        for shift in [1, 2, 4, 8, 16, 32] {
            mask |= mask >> shift;
        }
        if max <= u32::MAX as u64 {
            loop {
                let v = self.next_u32() as u64 & mask;
                if v <= max {
                    return v;
                }
            }
        }
        loop {
            let v = self.next_u64() & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `RandomState.shuffle(x)` on a 1-D array.
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = self.interval(i as u64) as usize;
            x.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The raw stream of `RandomState(5489)` (the reference implementation's default seed)
    /// and of `RandomState(0)`, as `np.random.RandomState(s).randint(0, 2**32, size=3,
    /// dtype=np.uint32)` prints it (numpy 2.3.5: a full-range draw is one whole word).
    #[test]
    fn reference_stream() {
        let mut r = RandomState::new(5489);
        assert_eq!(r.next_u32(), 3_499_211_612);
        assert_eq!(r.next_u32(), 581_869_302);
        assert_eq!(r.next_u32(), 3_890_346_734);
        let mut r = RandomState::new(0);
        assert_eq!([r.next_u32(), r.next_u32(), r.next_u32()], [2_357_136_044, 2_546_248_239, 3_071_714_933]);
    }

    /// `np.random.RandomState(42).permutation(10)` and `RandomState(7).shuffle(np.arange(20))`.
    #[test]
    fn shuffle_matches_numpy() {
        let mut r = RandomState::new(42);
        let mut v: Vec<usize> = (0..10).collect();
        r.shuffle(&mut v);
        assert_eq!(v, [8, 1, 5, 0, 7, 2, 9, 4, 3, 6]);
        let mut r = RandomState::new(7);
        let mut v: Vec<usize> = (0..20).collect();
        r.shuffle(&mut v);
        assert_eq!(v, [1, 17, 2, 5, 11, 0, 18, 6, 13, 19, 10, 14, 8, 16, 9, 12, 7, 3, 4, 15]);
    }
}
