//! Inverted dropout as in `torch.nn.Dropout`: each element is kept with probability `1 − p`
//! and scaled by `1/(1 − p)`, zeroed otherwise; and the gather of a mini-batch through it.
//!
//! The masks come from [`LaneRng`], sixteen interleaved xoshiro128++ generators whose state
//! update vectorises, so that drawing a mask costs a fraction of a nanosecond per element.

use ndarray::ArrayView2;
use rand::RngCore;

use super::simd::{dispatch, Kernel};

const LANES: usize = 16;

/// Sixteen independent xoshiro128++ generators (Blackman & Vigna), advanced together.
#[derive(Debug, Clone)]
pub(crate) struct LaneRng {
    s: [[u32; LANES]; 4],
}

impl LaneRng {
    /// Lanes seeded from 64 draws of `seed`.
    pub fn new(seed: &mut impl RngCore) -> Self {
        let mut s = [[0u32; LANES]; 4];
        s.iter_mut().flatten().for_each(|w| *w = seed.next_u32());
        // An all-zero state would stay zero; give such a lane a fixed non-zero word.
        let [s0, s1, s2, s3] = &mut s;
        for (((a, b), c), d) in s0.iter_mut().zip(&*s1).zip(&*s2).zip(&*s3) {
            if *a | *b | *c | *d == 0 {
                *a = 1;
            }
        }
        LaneRng { s }
    }

    /// One output of every lane: `rotl(s0 + s3, 7) + s0`, then the xoshiro128 state update.
    #[inline(always)]
    fn step(s: &mut [[u32; LANES]; 4]) -> [u32; LANES] {
        let [s0, s1, s2, s3] = s;
        let mut out = [0u32; LANES];
        for l in 0..LANES {
            out[l] = s0[l].wrapping_add(s3[l]).rotate_left(7).wrapping_add(s0[l]);
            let t = s1[l] << 9;
            s2[l] ^= s0[l];
            s3[l] ^= s1[l];
            s1[l] ^= s2[l];
            s0[l] ^= s3[l];
            s2[l] ^= t;
            s3[l] = s3[l].rotate_left(11);
        }
        out
    }

    /// Fills `out` with uniform 32-bit words (a partial last block discards its surplus).
    #[inline(always)]
    fn fill(&mut self, out: &mut [u32]) {
        // A local copy keeps the state in registers across the loop.
        let mut s = self.s;
        let mut chunks = out.chunks_exact_mut(LANES);
        for c in &mut chunks {
            c.copy_from_slice(&Self::step(&mut s));
        }
        let rest = chunks.into_remainder();
        let n = rest.len();
        if n > 0 {
            rest.copy_from_slice(&Self::step(&mut s)[..n]);
        }
        self.s = s;
    }
}

/// A dropout layer with drop probability `p > 0`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dropout {
    /// An element is dropped when its uniform 32-bit draw is below this (`round(p·2³²)`),
    /// so the drop probability is `p` to within 2⁻³³.
    threshold: u32,
    /// `1/(1 − p)` in f32, the factor of the kept elements.
    scale: f32,
}

impl Dropout {
    /// Dropout with probability `p` in `[0, 1)`; `None` for `p = 0` (the identity).
    pub fn new(p: f64) -> Option<Self> {
        (p > 0.0).then(|| Dropout {
            threshold: (p * 4_294_967_296.0).round().min(f64::from(u32::MAX)) as u32,
            scale: (1.0 / (1.0 - p)) as f32,
        })
    }

    /// `dst = src · factor`, factor 0 or `1/(1 − p)` from `bits` (as `x * mask` in PyTorch).
    #[inline(always)]
    fn mask(&self, bits: &[u32], src: &[f32], dst: &mut [f32]) {
        let (threshold, scale) = (self.threshold, self.scale);
        for ((d, s), &r) in dst.iter_mut().zip(src).zip(bits) {
            *d = *s * (u32::from(r >= threshold) as f32 * scale);
        }
    }
}

/// Copies rows `rows` of `src` (rows contiguous) into the first `rows.len()` rows of `dst`
/// (`[.., D]`, contiguous) through `dropout`; `bits` is scratch of at least D words.
pub(crate) fn gather(
    dropout: Option<&Dropout>,
    rng: &mut LaneRng,
    bits: &mut [u32],
    src: ArrayView2<f32>,
    rows: &[usize],
    dst: &mut [f32],
) {
    dispatch(Gather {
        dropout,
        rng,
        bits,
        src: src.view(),
        rows,
        dst,
    });
}

/// Fills `keep` with dropout factors (0 or `1/(1 − p)`), the mask of a hidden layer.
pub(crate) fn fill_keep(dropout: &Dropout, rng: &mut LaneRng, bits: &mut [u32], keep: &mut [f32]) {
    dispatch(FillKeep {
        dropout,
        rng,
        bits,
        keep,
    });
}

struct Gather<'a> {
    dropout: Option<&'a Dropout>,
    rng: &'a mut LaneRng,
    bits: &'a mut [u32],
    src: ArrayView2<'a, f32>,
    rows: &'a [usize],
    dst: &'a mut [f32],
}

impl Kernel for Gather<'_> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let d = self.src.ncols();
        let bits = &mut self.bits[..d];
        for (&i, out) in self.rows.iter().zip(self.dst.chunks_exact_mut(d)) {
            let row = self.src.row(i);
            // The caller passes a standard-layout matrix; a strided one is copied per element.
            let Some(row) = row.as_slice() else {
                out.iter_mut().zip(row).for_each(|(o, &v)| *o = v);
                continue;
            };
            match self.dropout {
                Some(dropout) => {
                    self.rng.fill(bits);
                    dropout.mask(bits, row, out);
                }
                None => out.copy_from_slice(row),
            }
        }
    }
}

struct FillKeep<'a> {
    dropout: &'a Dropout,
    rng: &'a mut LaneRng,
    bits: &'a mut [u32],
    keep: &'a mut [f32],
}

impl Kernel for FillKeep<'_> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let ones = [1.0f32; 256];
        let n = self.bits.len().min(ones.len());
        for out in self.keep.chunks_mut(n) {
            let m = out.len();
            self.rng.fill(&mut self.bits[..m]);
            self.dropout.mask(&self.bits[..m], &ones[..m], out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn drops_at_rate_p_and_rescales_the_rest() {
        let d = Dropout::new(0.1).unwrap();
        let mut rng = LaneRng::new(&mut Xoshiro256PlusPlus::seed_from_u64(3));
        let mut bits = vec![0u32; 256];
        let mut keep = vec![0.0f32; 200_003];
        fill_keep(&d, &mut rng, &mut bits, &mut keep);
        let dropped = keep.iter().filter(|&&k| k == 0.0).count() as f64 / keep.len() as f64;
        // Binomial sd at n = 2e5 is 6.7e-4: 5 sd.
        assert!((dropped - 0.1).abs() < 3.4e-3, "{dropped}");
        assert!(keep.iter().all(|&k| k == 0.0 || k == (1.0f64 / 0.9) as f32));
        // Neighbouring elements (different lanes, consecutive draws) are not correlated.
        let both = keep
            .windows(2)
            .filter(|w| w[0] == 0.0 && w[1] == 0.0)
            .count() as f64;
        let expected = 0.01 * (keep.len() - 1) as f64;
        assert!(
            (both - expected).abs() < 5.0 * expected.sqrt(),
            "{both} vs {expected}"
        );
        assert!(Dropout::new(0.0).is_none());
    }

    #[test]
    fn gather_selects_rows_and_masks_them() {
        let src = Array2::from_shape_fn((5, 37), |(i, j)| (i * 100 + j) as f32);
        let rows = [3, 0, 3];
        let mut dst = vec![0.0f32; 3 * 37];
        let mut bits = vec![0u32; 37];
        let seed = &mut Xoshiro256PlusPlus::seed_from_u64(1);
        let mut rng = LaneRng::new(seed);
        gather(None, &mut rng, &mut bits, src.view(), &rows, &mut dst);
        assert_eq!(&dst[..37], src.row(3).as_slice().unwrap());
        assert_eq!(&dst[37..74], src.row(0).as_slice().unwrap());
        let d = Dropout::new(0.5).unwrap();
        gather(Some(&d), &mut rng, &mut bits, src.view(), &rows, &mut dst);
        for (k, &i) in rows.iter().enumerate() {
            for j in 0..37 {
                let v = dst[k * 37 + j];
                assert!(v == 0.0 || v == src[[i, j]] * 2.0, "{v}");
            }
        }
        // Two gathers of the same row draw different masks.
        assert_ne!(&dst[..37], &dst[74..]);
    }
}
