//! Seeded, deterministic bootstrap and its intervals (percentile, basic, BCa).
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

/// How a bootstrap interval is formed from the replicates `θ*` (recorded per interval in
/// the report as `ci_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalMethod {
    /// `[q_{α/2}(θ*), q_{1−α/2}(θ*)]`.
    Percentile,
    /// `[2θ̂ − q_{1−α/2}(θ*), 2θ̂ − q_{α/2}(θ*)]` (the percentile interval reflected about
    /// the estimate: corrects a shift of the bootstrap distribution).
    Basic,
    /// Bias-corrected and accelerated percentile (Efron 1987), acceleration from the
    /// jackknife.
    Bca,
}

impl IntervalMethod {
    /// The name written in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            IntervalMethod::Percentile => "percentile",
            IntervalMethod::Basic => "basic",
            IntervalMethod::Bca => "bca",
        }
    }
}

/// A bootstrap interval, how it was formed, and the count of resamples on which the
/// statistic was undefined (skipped).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// `[lo, hi]`; `None` when no resample gave a value.
    pub bounds: Option<(f64, f64)>,
    /// Resamples skipped because the statistic was undefined there (e.g. no error).
    pub skipped: usize,
    /// How the bounds were formed.
    pub method: IntervalMethod,
}

/// The defined replicates, sorted, and how many were undefined.
fn sorted_defined(replicates: &[Option<f64>]) -> (Vec<f64>, usize) {
    let mut v: Vec<f64> = replicates.iter().flatten().copied().collect();
    let skipped = replicates.len() - v.len();
    v.sort_by(f64::total_cmp);
    (v, skipped)
}

/// The central `level` percentile interval of the defined replicates.
pub fn percentile_interval(replicates: &[Option<f64>], level: f64) -> Interval {
    let (v, skipped) = sorted_defined(replicates);
    let a = (1.0 - level) / 2.0;
    let bounds = quantile_sorted(&v, a).zip(quantile_sorted(&v, 1.0 - a));
    Interval {
        bounds,
        skipped,
        method: IntervalMethod::Percentile,
    }
}

/// The basic (reflected percentile) interval `[2θ̂ − q_{1−α/2}, 2θ̂ − q_{α/2}]` around the
/// estimate `point`.
pub fn basic_interval(point: f64, replicates: &[Option<f64>], level: f64) -> Interval {
    let p = percentile_interval(replicates, level);
    Interval {
        bounds: p
            .bounds
            .map(|(lo, hi)| (2.0 * point - hi, 2.0 * point - lo)),
        method: IntervalMethod::Basic,
        ..p
    }
}

/// Standard normal CDF `Φ(x) = erfc(−x/√2)/2`.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal quantile `Φ⁻¹(p)`.
pub fn normal_quantile(p: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    // N(0, 1) is a valid distribution; the fallback is never taken.
    Normal::new(0.0, 1.0).map_or(f64::NAN, |n| n.inverse_cdf(p))
}

/// The BCa interval (Efron 1987; Efron & Tibshirani 1993, §14.3): the percentile interval at
/// the adjusted levels `Φ(z₀ + (z₀ + z_a)/(1 − â(z₀ + z_a)))` for `z_a = Φ⁻¹(α/2)`,
/// `Φ⁻¹(1 − α/2)`, with bias correction `z₀ = Φ⁻¹(#{θ* < θ̂}/B)` (the fraction clipped to
/// `[10⁻⁶, 1 − 10⁻⁶]`) and acceleration `â = Σ d³ / (6 (Σ d²)^{3/2})`, `d_i = θ̄₍.₎ − θ₍ᵢ₎`
/// over the leave-one-out values `jackknife`.
pub fn bca_interval(
    point: f64,
    replicates: &[Option<f64>],
    jackknife: &[f64],
    level: f64,
) -> Interval {
    let (v, skipped) = sorted_defined(replicates);
    let interval = |bounds| Interval {
        bounds,
        skipped,
        method: IntervalMethod::Bca,
    };
    if v.is_empty() {
        return interval(None);
    }
    let below = v.iter().filter(|&&t| t < point).count() as f64 / v.len() as f64;
    let z0 = normal_quantile(below.clamp(1e-6, 1.0 - 1e-6));
    let mean = jackknife.iter().sum::<f64>() / jackknife.len().max(1) as f64;
    let (s2, s3) = jackknife.iter().fold((0.0, 0.0), |(s2, s3), &j| {
        let d = mean - j;
        (s2 + d * d, s3 + d * d * d)
    });
    let accel = if s2 > 0.0 {
        s3 / (6.0 * s2.powf(1.5))
    } else {
        0.0
    };
    let adjusted = |a: f64| {
        let z = normal_quantile(a);
        normal_cdf(z0 + (z0 + z) / (1.0 - accel * (z0 + z)))
    };
    let a = (1.0 - level) / 2.0;
    interval(quantile_sorted(&v, adjusted(a)).zip(quantile_sorted(&v, adjusted(1.0 - a))))
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
        let b = basic_interval(
            3.0,
            &[Some(1.0), None, Some(2.0), Some(4.0), Some(8.0)],
            0.95,
        );
        let (lo, hi) = b.bounds.unwrap();
        assert!((lo - (6.0 - 7.7)).abs() < 1e-12 && (hi - (6.0 - 1.075)).abs() < 1e-12);
        assert_eq!((b.skipped, b.method), (1, IntervalMethod::Basic));
    }

    #[test]
    fn bca_reduces_to_percentile_without_bias_or_skew() {
        // Replicates symmetric about the estimate (z₀ = 0) and a symmetric jackknife
        // (â = 0): the adjusted levels are α/2 and 1 − α/2.
        let reps: Vec<Option<f64>> = (0..1001).map(|i| Some(i as f64 - 500.0)).collect();
        let jack = [-1.0, 0.0, 1.0];
        let bca = bca_interval(0.0, &reps, &jack, 0.9);
        let pct = percentile_interval(&reps, 0.9);
        // #{θ* < 0} = 500 of 1001, so z₀ = Φ⁻¹(0.4995) ≈ −0.00125: a tiny shift.
        let ((a, b), (c, d)) = (bca.bounds.unwrap(), pct.bounds.unwrap());
        assert!(
            (a - c).abs() < 0.3 && (b - d).abs() < 0.3,
            "{a} {b} vs {c} {d}"
        );
        assert_eq!(bca.method, IntervalMethod::Bca);
    }

    #[test]
    fn bca_levels_by_hand() {
        // z₀ = Φ⁻¹(0.3) (3 of 10 replicates below the estimate); jackknife 0, 0, 3: mean 1,
        // d = (1, 1, −2), Σd² = 6, Σd³ = −6, â = −6/(6·6^1.5). At 80%: adjusted levels
        // 0.00489221579070532 and 0.577559897863783, numpy quantiles of 0..9 at them
        // 0.04402994211634788 and 5.1980390807740475 (scipy.stats.norm, numpy.quantile).
        let reps: Vec<Option<f64>> = (0..10).map(|i| Some(f64::from(i))).collect();
        let (lo, hi) = bca_interval(2.5, &reps, &[0.0, 0.0, 3.0], 0.8)
            .bounds
            .unwrap();
        assert!((lo - 0.044_029_942_116_347_88).abs() < 1e-9, "{lo}");
        assert!((hi - 5.198_039_080_774_047_5).abs() < 1e-9, "{hi}");
        // Φ and Φ⁻¹ are inverse, and Φ(1.959964) = 0.975.
        assert!((normal_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-12);
        assert!((normal_quantile(normal_cdf(-0.7)) + 0.7).abs() < 1e-9);
    }
}
