//! Coverage of the ECE intervals, computed by the library's own code (binning, debiased ECE,
//! bootstrap resamples, jackknife, interval methods) on simulated calibration sets.
//!
//! Top-class confidences `c = 1 − 0.75·Beta(0.45, 2.6)` (fixture-like: mostly near 1, a
//! tail to 0.25), correct with probability `g(c) = c^p` (`p = 1`: calibrated; larger `p`:
//! overconfident). The truths are the population binned ECE (15 equal-width bins) for the
//! plug-in and debiased ECE, and the population equal-mass ECE for the adaptive ECE, by
//! quadrature over the quantiles of `c`.

use adue_compile::score::bootstrap::{self, BootstrapConfig, IntervalMethod};
use adue_compile::score::calibration::{
    equal_width_bin, Calibration, CalibrationMetrics, ECE_BINS,
};
use adue_compile::score::metrics::Estimate;
use adue_compile::score::LogitStats;
use ndarray::Array1;
use rayon::prelude::*;
use statrs::distribution::{Beta, ContinuousCDF};

use super::rng::Rng;

const BETA_A: f64 = 0.45;
const BETA_B: f64 = 2.6;

/// One calibration statistic of [`CalibrationMetrics`].
pub type Statistic = fn(&CalibrationMetrics) -> f64;

/// The statistics whose intervals are studied.
pub const STATISTICS: [(&str, Statistic); 3] = [
    ("plugin", |m| m.ece),
    ("debiased", |m| m.ece_debiased),
    ("adaptive", |m| m.adaptive_ece),
];

/// The interval methods compared.
pub const METHODS: [IntervalMethod; 3] = [
    IntervalMethod::Percentile,
    IntervalMethod::Basic,
    IntervalMethod::Bca,
];

/// Population ECEs of `g(c) = c^power`: `(binned, equal-mass)`, by the midpoint rule over
/// `points` quantiles of `c`.
pub fn truth(power: f64, points: usize) -> (f64, f64) {
    let beta = Beta::new(BETA_A, BETA_B).expect("valid shapes");
    let mut width = [0.0f64; ECE_BINS];
    let mut mass = [0.0f64; ECE_BINS];
    for i in 0..points {
        // q is the quantile of c: c increases with q, x = Beta quantile at 1 − q.
        let q = (i as f64 + 0.5) / points as f64;
        let c = 1.0 - 0.75 * beta.inverse_cdf(1.0 - q);
        let gap = c.powf(power) - c;
        width[equal_width_bin(c)] += gap;
        mass[((q * ECE_BINS as f64) as usize).min(ECE_BINS - 1)] += gap;
    }
    let total = |s: &[f64]| s.iter().map(|g| g.abs()).sum::<f64>() / points as f64;
    (total(&width), total(&mass))
}

/// Coverage, mean width and how often the interval excludes its own estimate, per
/// statistic and method; mean estimate per statistic.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EceOutcome {
    /// Rows per draw.
    pub n: usize,
    /// `p` of `g(c) = c^p`.
    pub power: f64,
    /// Population binned ECE.
    pub true_ece: f64,
    /// Population equal-mass ECE.
    pub true_adaptive_ece: f64,
    /// Draws.
    pub draws: usize,
    /// Resamples per interval.
    pub resamples: usize,
    /// `statistic` → mean estimate.
    pub mean_estimate: std::collections::BTreeMap<String, f64>,
    /// `statistic/method` → fraction of intervals covering the truth.
    pub coverage: std::collections::BTreeMap<String, f64>,
    /// `statistic/method` → mean width.
    pub mean_width: std::collections::BTreeMap<String, f64>,
    /// `statistic/method` → fraction of intervals that exclude their own estimate.
    pub excludes_estimate: std::collections::BTreeMap<String, f64>,
}

/// One draw's calibration set.
fn calibration(n: usize, power: f64, rng: &mut Rng) -> Calibration {
    let c: Vec<f64> = (0..n)
        .map(|_| 1.0 - 0.75 * rng.beta(BETA_A, BETA_B))
        .collect();
    let errors: Array1<bool> = c.iter().map(|&c| !rng.bernoulli(c.powf(power))).collect();
    Calibration::new(&LogitStats {
        predictions: Array1::zeros(n),
        errors,
        confidence: Array1::from(c),
        entropy: Array1::zeros(n),
        nll: Array1::zeros(n),
        brier: Array1::zeros(n),
    })
}

/// Runs the coverage study of one setting.
pub fn coverage(n: usize, power: f64, draws: usize, resamples: usize, seed: u64) -> EceOutcome {
    let (true_ece, true_adaptive) = truth(power, 400_000);
    // Per draw: per (statistic, method): (covered, width, excludes estimate); estimates.
    type Row = (Vec<(bool, f64, bool)>, Vec<f64>);
    let rows: Vec<Row> = (0..draws)
        .into_par_iter()
        .map(|d| {
            let mut rng = Rng::new(seed, d as u64);
            let cal = calibration(n, power, &mut rng);
            let point = cal.compute(None).expect("rows");
            let cfg = BootstrapConfig {
                resamples,
                seed: seed ^ (d as u64).wrapping_mul(0x9E37_79B9),
                level: 0.95,
            };
            let reps: Vec<Option<CalibrationMetrics>> =
                bootstrap::run(n, &cfg, |w| cal.compute(Some(w)));
            let jack = cal.jackknife();
            let mut cells = Vec::new();
            let mut estimates = Vec::new();
            for (i, (_, f)) in STATISTICS.iter().enumerate() {
                let est = f(&point);
                estimates.push(est);
                let truth = if i == 2 { true_adaptive } else { true_ece };
                let r: Vec<Option<f64>> = reps.iter().map(|m| m.map(|m| f(&m))).collect();
                let j: Vec<f64> = jack.iter().map(f).collect();
                for method in METHODS {
                    let e = Estimate::with_method(Ok(est), &r, Some(&j), method, 0.95);
                    let (lo, hi) = e.interval.bounds.unwrap_or((f64::NAN, f64::NAN));
                    cells.push((
                        lo <= truth && truth <= hi,
                        hi - lo,
                        !(lo <= est && est <= hi),
                    ));
                }
            }
            (cells, estimates)
        })
        .collect();
    let k = rows.len() as f64;
    let mut out = EceOutcome {
        n,
        power,
        true_ece,
        true_adaptive_ece: true_adaptive,
        draws,
        resamples,
        mean_estimate: Default::default(),
        coverage: Default::default(),
        mean_width: Default::default(),
        excludes_estimate: Default::default(),
    };
    for (i, (name, _)) in STATISTICS.iter().enumerate() {
        let mean = rows.iter().map(|r| r.1[i]).sum::<f64>() / k;
        out.mean_estimate.insert(name.to_string(), mean);
        for (j, method) in METHODS.iter().enumerate() {
            let key = format!("{name}/{}", method.as_str());
            let cell = |r: &Row| r.0[i * METHODS.len() + j];
            let frac = |f: &dyn Fn(&Row) -> bool| rows.iter().filter(|r| f(r)).count() as f64 / k;
            out.coverage.insert(key.clone(), frac(&|r| cell(r).0));
            out.excludes_estimate
                .insert(key.clone(), frac(&|r| cell(r).2));
            let w = rows.iter().map(|r| cell(r).1).sum::<f64>() / k;
            out.mean_width.insert(key, w);
        }
    }
    out
}
