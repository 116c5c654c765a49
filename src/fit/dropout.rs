//! Inverted dropout as in `torch.nn.Dropout`: each element is kept with probability `1 − p`
//! and scaled by `1/(1 − p)`, zeroed otherwise.

use rand::RngCore;

/// A dropout layer with drop probability `p > 0`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dropout {
    /// An element is dropped when a uniform 32-bit draw is below this (`round(p·2³²)`),
    /// so the drop probability is `p` to within 2⁻³³.
    threshold: u64,
    /// `1/(1 − p)` in f32, the factor of the kept elements.
    scale: f32,
}

impl Dropout {
    /// Dropout with probability `p` in `[0, 1)`; `None` for `p = 0` (the identity).
    pub fn new(p: f64) -> Option<Self> {
        (p > 0.0).then(|| Dropout {
            threshold: (p * 4_294_967_296.0).round() as u64,
            scale: (1.0 / (1.0 - p)) as f32,
        })
    }

    /// Calls `f(i, factor)` for `i in 0..n` with `factor` 0 or `1/(1 − p)`; two draws per `u64`.
    #[inline]
    fn factors(&self, rng: &mut impl RngCore, n: usize, mut f: impl FnMut(usize, f32)) {
        let factor = |bits: u64| {
            if bits < self.threshold {
                0.0
            } else {
                self.scale
            }
        };
        let mut i = 0;
        while i + 1 < n {
            let r = rng.next_u64();
            f(i, factor(r & 0xffff_ffff));
            f(i + 1, factor(r >> 32));
            i += 2;
        }
        if i < n {
            f(i, factor(rng.next_u64() & 0xffff_ffff));
        }
    }

    /// `dst = dropout(src)`. `src` and `dst` have the same length.
    pub fn apply(&self, rng: &mut impl RngCore, src: &[f32], dst: &mut [f32]) {
        debug_assert_eq!(src.len(), dst.len());
        self.factors(rng, dst.len().min(src.len()), |i, k| dst[i] = src[i] * k);
    }

    /// Fills `keep` with the factors themselves (the mask applied to the hidden layer).
    pub fn fill(&self, rng: &mut impl RngCore, keep: &mut [f32]) {
        self.factors(rng, keep.len(), |i, k| keep[i] = k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn drops_at_rate_p_and_rescales_the_rest() {
        let d = Dropout::new(0.1).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut keep = vec![0.0f32; 200_001];
        d.fill(&mut rng, &mut keep);
        let dropped = keep.iter().filter(|&&k| k == 0.0).count() as f64 / keep.len() as f64;
        // Binomial sd at n = 2e5 is 6.7e-4: 5 sd.
        assert!((dropped - 0.1).abs() < 3.4e-3, "{dropped}");
        assert!(keep.iter().all(|&k| k == 0.0 || k == (1.0f64 / 0.9) as f32));
        let src: Vec<f32> = (0..keep.len()).map(|i| i as f32).collect();
        let mut dst = vec![0.0; src.len()];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        d.apply(&mut rng, &src, &mut dst);
        assert!(dst
            .iter()
            .zip(&src)
            .zip(&keep)
            .all(|((&y, &x), &k)| y == x * k));
        assert!(Dropout::new(0.0).is_none());
    }
}
