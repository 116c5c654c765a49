//! Seeded, deterministic percentile bootstrap.
//!
//! Resample `b` draws `N` row indices uniformly with replacement from its own
//! xoshiro256++ generator, seeded with `splitmix64(seed ⊕ splitmix64(b))`, so that the
//! result does not depend on the number of threads or the order in which rayon runs the
//! resamples. A resample is represented by the multiplicity of each row, which lets the
//! metrics reuse the original sort order (O(N) per resample and metric).

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

/// How intervals are computed (recorded in the report).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapConfig {
    /// Number of resamples (1000 by CONTRACT §5).
    pub resamples: usize,
    /// Seed of every resample's generator.
    pub seed: u64,
    /// Two-sided coverage of the interval (0.95).
    pub level: f64,
}

impl BootstrapConfig {
    /// 1000 resamples, 95% intervals, with `seed`.
    pub fn new(seed: u64) -> Self {
        BootstrapConfig {
            resamples: 1000,
            seed,
            level: 0.95,
        }
    }
}

/// SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mix.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Multiplicity of each of `n` rows in resample `index` (the counts sum to `n`).
pub fn resample_weights(n: usize, seed: u64, index: usize) -> Vec<u32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(splitmix64(seed ^ splitmix64(index as u64)));
    let mut w = vec![0u32; n];
    for _ in 0..n {
        w[rng.gen_range(0..n)] += 1;
    }
    w
}

/// Runs `f` on every resample of `n` rows, in parallel, returning the results in
/// resample order (deterministic for any thread count).
pub fn run<T, F>(n: usize, config: &BootstrapConfig, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(&[u32]) -> T + Sync,
{
    (0..config.resamples)
        .into_par_iter()
        .map(|b| f(&resample_weights(n, config.seed, b)))
        .collect()
}

/// Percentile of sorted values with linear interpolation between order statistics
/// (`numpy.percentile`'s default): position `h = (n − 1)·q`.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// A percentile interval from bootstrap replicates, with the count of resamples on
/// which the statistic was undefined (skipped).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// `[lo, hi]`; `None` when no resample gave a value.
    pub bounds: Option<(f64, f64)>,
    /// Resamples skipped because the statistic was undefined there (e.g. no error).
    pub skipped: usize,
}

/// The central `level` percentile interval of the defined replicates.
pub fn percentile_interval(replicates: &[Option<f64>], level: f64) -> Interval {
    let mut v: Vec<f64> = replicates.iter().flatten().copied().collect();
    let skipped = replicates.len() - v.len();
    v.sort_by(f64::total_cmp);
    let a = (1.0 - level) / 2.0;
    let bounds = quantile_sorted(&v, a).zip(quantile_sorted(&v, 1.0 - a));
    Interval { bounds, skipped }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_n_and_are_reproducible() {
        let a = resample_weights(500, 7, 3);
        assert_eq!(a.iter().map(|&w| w as usize).sum::<usize>(), 500);
        assert_eq!(a, resample_weights(500, 7, 3));
        assert_ne!(a, resample_weights(500, 7, 4));
        assert_ne!(a, resample_weights(500, 8, 3));
        // About 1 − 1/e of the rows appear in a resample.
        let present = a.iter().filter(|&&w| w > 0).count() as f64 / 500.0;
        assert!((present - 0.632).abs() < 0.05, "{present}");
    }

    #[test]
    fn run_is_independent_of_thread_count() {
        let cfg = BootstrapConfig {
            resamples: 64,
            seed: 11,
            level: 0.95,
        };
        let f = |w: &[u32]| {
            w.iter()
                .enumerate()
                .map(|(i, &c)| i * c as usize)
                .sum::<usize>()
        };
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| run(300, &cfg, f));
        let three = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap()
            .install(|| run(300, &cfg, f));
        assert_eq!(one, three);
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        // numpy.percentile([1, 2, 4, 8], [2.5, 97.5]) = [1.075, 7.7]
        let v = [1.0, 2.0, 4.0, 8.0];
        assert!((quantile_sorted(&v, 0.025).unwrap() - 1.075).abs() < 1e-12);
        assert!((quantile_sorted(&v, 0.975).unwrap() - 7.7).abs() < 1e-12);
        assert_eq!(quantile_sorted(&[3.0], 0.5), Some(3.0));
        let iv = percentile_interval(&[Some(1.0), None, Some(2.0), Some(4.0), Some(8.0)], 0.95);
        assert_eq!(iv.skipped, 1);
        let (lo, hi) = iv.bounds.unwrap();
        assert!((lo - 1.075).abs() < 1e-12 && (hi - 7.7).abs() < 1e-12);
        assert_eq!(percentile_interval(&[None, None], 0.95).bounds, None);
    }
}
