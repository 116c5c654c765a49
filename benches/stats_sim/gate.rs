//! The `validate --baseline` gate ([`adue_compile::validate::gate::non_inferiority`]) on
//! simulated runs. `n` rows, errors `e ~ Bern(π)`; old score `U_old = μ·e + z₁`, new score
//! `U_new = μ₂·e + ρ·z₁ + √(1 − ρ²)·z₂` with `z ~ N(0, 1)`: within-class correlation `ρ`,
//! population AUCs `Φ(μ/√2) = auc_old` and `Φ(μ₂/√2) = auc_old − drop`. Same rows for both
//! runs (paired gate), or independent rows (`paired = false`, the unpaired gate).

use adue_compile::score::bootstrap::{normal_quantile, percentile_interval, resample_weights};
use adue_compile::score::ranking::Ranking;
use adue_compile::score::roc_auc::{roc_auc, roc_auc_from_groups};
use adue_compile::validate::gate::{non_inferiority, RunScores};
use rayon::prelude::*;

use super::rng::Rng;

/// One simulated setting.
#[derive(Debug, Clone, Copy)]
pub struct GateSetting {
    /// Rows of the test split.
    pub n: usize,
    /// Error rate.
    pub pi: f64,
    /// Population AUC of the old run.
    pub auc_old: f64,
    /// True AUC drop of the new run.
    pub drop: f64,
    /// Within-class correlation of the two scores (1 = identical up to the drop).
    pub rho: f64,
    /// The gate's margin.
    pub margin: f64,
    /// Same rows for both runs.
    pub paired: bool,
}

/// What a setting gave over its draws.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct GateOutcome {
    /// Draws the gate failed.
    pub fail_rate: f64,
    /// Mean SE(D).
    pub mean_se: f64,
    /// Mean of D.
    pub mean_d: f64,
    /// Standard deviation of D across draws.
    pub sd_d: f64,
    /// Draws.
    pub draws: usize,
}

/// `(errors, U_old, U_new)` of one draw.
fn draw(s: &GateSetting, rng: &mut Rng) -> (Vec<bool>, Vec<f64>, Vec<f64>, Vec<bool>) {
    let mu = std::f64::consts::SQRT_2 * normal_quantile(s.auc_old);
    let mu2 = std::f64::consts::SQRT_2 * normal_quantile(s.auc_old - s.drop);
    let e: Vec<bool> = (0..s.n).map(|_| rng.bernoulli(s.pi)).collect();
    let z1: Vec<f64> = (0..s.n).map(|_| rng.normal()).collect();
    let old: Vec<f64> = e
        .iter()
        .zip(&z1)
        .map(|(&e, z)| mu * f64::from(u8::from(e)) + z)
        .collect();
    let e_new = if s.paired {
        e.clone()
    } else {
        (0..s.n).map(|_| rng.bernoulli(s.pi)).collect()
    };
    let z_new: Vec<f64> = if s.paired {
        z1.clone()
    } else {
        (0..s.n).map(|_| rng.normal()).collect()
    };
    let w = (1.0 - s.rho * s.rho).max(0.0).sqrt();
    let new = e_new
        .iter()
        .zip(&z_new)
        .map(|(&e, z)| {
            let noise = if w > 0.0 { w * rng.normal() } else { 0.0 };
            mu2 * f64::from(u8::from(e)) + s.rho * z + noise
        })
        .collect();
    (e, old, new, e_new)
}

/// Runs the gate on `draws` simulated pairs of runs.
pub fn simulate(s: &GateSetting, draws: usize, seed: u64) -> GateOutcome {
    let results: Vec<(bool, f64, f64)> = (0..draws)
        .into_par_iter()
        .filter_map(|d| {
            let mut rng = Rng::new(seed, d as u64);
            let (e, old, new, e_new) = draw(s, &mut rng);
            let g = non_inferiority(
                RunScores {
                    uncertainty: &old,
                    errors: &e,
                },
                RunScores {
                    uncertainty: &new,
                    errors: &e_new,
                },
                s.paired,
                s.margin,
            )
            .ok()?;
            Some((!g.passed, g.se, g.drop))
        })
        .collect();
    let k = results.len() as f64;
    let mean_d = results.iter().map(|r| r.2).sum::<f64>() / k;
    let var_d = results.iter().map(|r| (r.2 - mean_d).powi(2)).sum::<f64>() / (k - 1.0);
    GateOutcome {
        fail_rate: results.iter().filter(|r| r.0).count() as f64 / k,
        mean_se: results.iter().map(|r| r.1).sum::<f64>() / k,
        mean_d,
        sd_d: var_d.sqrt(),
        draws: results.len(),
    }
}

/// The gate this one replaces (for contrast): fail when the new AUC is below the old run's
/// own 2.5% percentile-bootstrap bound (`resamples` resamples of the old run's rows).
pub fn simulate_previous_gate(s: &GateSetting, draws: usize, seed: u64, resamples: usize) -> f64 {
    let fails: usize = (0..draws)
        .into_par_iter()
        .map(|d| {
            let mut rng = Rng::new(seed, d as u64);
            let (e, old, new, e_new) = draw(s, &mut rng);
            let ranking = Ranking::new(&old).expect("finite scores");
            let reps: Vec<Option<f64>> = (0..resamples)
                .map(|b| {
                    let w = resample_weights(s.n, seed ^ 0x5eed, d * resamples + b);
                    roc_auc_from_groups(ranking.groups(&e, Some(&w)))
                })
                .collect();
            let lo = percentile_interval(&reps, 0.95).bounds.map_or(0.0, |b| b.0);
            usize::from(roc_auc(&new, &e_new).is_some_and(|a| a < lo))
        })
        .sum();
    fails as f64 / draws as f64
}
