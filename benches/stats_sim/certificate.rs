//! The certified threshold ([`adue_compile::export::certify`]) after selection.
//!
//! (i) K exchangeable scorers `U_k = μ·e + a·z + b·ε_k` (`z` shared, `ε_k` each scorer's
//! own, all N(0, 1), `a² + b² = 1`), so every scorer has the same population risk curve
//! `risk(τ) = π·Φ(τ − μ) / (π·Φ(τ − μ) + (1 − π)·Φ(τ))`. The scorer with the best error
//! ROC-AUC on the selection rows is certified (restarts from `U` on fresh reference rows)
//! on: the same rows that selected it (the old procedure's situation), fresh calibration
//! rows, or the other half of a selection split cut in two. Failure: `risk(τ̂) > R`.
//!
//! (ii) Validity of the restarts under awkward risk curves: `U ~ Uniform(0, 1)`,
//! `P(error | U = u) = p(u)`, `risk(τ) = ∫₀^τ p / τ`; reference rows an independent uniform
//! sample.

use adue_compile::export::{certify, CalibrationSet, ReferenceScores};
use adue_compile::score::bootstrap::normal_cdf;
use adue_compile::score::roc_auc::roc_auc;
use rayon::prelude::*;

use super::rng::Rng;

/// One selection setting.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct SelectionSetting {
    /// Scorers selected among.
    pub k: usize,
    /// Selection rows.
    pub n_select: usize,
    /// Fresh calibration rows.
    pub n_cal: usize,
    /// Reference (training) rows that place the restarts.
    pub n_ref: usize,
    /// Error rate.
    pub pi: f64,
    /// Error shift of U.
    pub mu: f64,
    /// Weight of each scorer's own noise.
    pub b: f64,
    /// Target risk.
    pub r: f64,
    /// δ.
    pub delta: f64,
}

impl SelectionSetting {
    /// The statistical review's setting with `k` scorers: 400 selection and 400 calibration
    /// rows, restarts placed from 1000 reference rows, error rate 0.15 (AUC ≈ 0.87), R 0.08,
    /// δ 0.1.
    pub fn review(k: usize) -> Self {
        SelectionSetting {
            k,
            n_select: 400,
            n_cal: 400,
            n_ref: 1000,
            pi: 0.15,
            mu: 1.6,
            b: 0.57,
            r: 0.08,
            delta: 0.1,
        }
    }
}

/// Failure and certification rates of one way of certifying.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Rates {
    /// Draws whose certified τ has true risk above R.
    pub failure: f64,
    /// Draws that certified a τ.
    pub certified: f64,
}

/// The selection study's outcome.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct SelectionOutcome {
    /// Certified on the selection rows themselves.
    pub same_rows: Rates,
    /// Certified on `n_cal` fresh rows.
    pub fresh_rows: Rates,
    /// Selection rows split in halves: select on one, certify on the other.
    pub split_halves: Rates,
    /// Mean standard deviation of the K selection AUCs.
    pub selection_auc_sd: f64,
    /// Population AUC `Φ(μ/√2)`.
    pub population_auc: f64,
    /// Draws.
    pub draws: usize,
}

fn risk(tau: f64, mu: f64, pi: f64) -> f64 {
    let a = pi * normal_cdf(tau - mu);
    let b = (1.0 - pi) * normal_cdf(tau);
    if a + b > 0.0 {
        a / (a + b)
    } else {
        0.0
    }
}

/// `(errors, U[k][row])` for `n` rows and `k` scorers.
fn rows(s: &SelectionSetting, rng: &mut Rng, n: usize, k: usize) -> (Vec<bool>, Vec<Vec<f64>>) {
    let a = (1.0 - s.b * s.b).sqrt();
    let e: Vec<bool> = (0..n).map(|_| rng.bernoulli(s.pi)).collect();
    let shared: Vec<f64> = e
        .iter()
        .map(|&e| s.mu * f64::from(u8::from(e)) + a * rng.normal())
        .collect();
    let u = (0..k)
        .map(|_| shared.iter().map(|v| v + s.b * rng.normal()).collect())
        .collect();
    (e, u)
}

fn best(u: &[Vec<f64>], e: &[bool], idx: &[usize]) -> usize {
    let e_sub: Vec<bool> = idx.iter().map(|&i| e[i]).collect();
    let mut best = (0, f64::NEG_INFINITY);
    for (k, col) in u.iter().enumerate() {
        let sub: Vec<f64> = idx.iter().map(|&i| col[i]).collect();
        let auc = roc_auc(&sub, &e_sub).unwrap_or(f64::NEG_INFINITY);
        if auc > best.1 {
            best = (k, auc);
        }
    }
    best.0
}

/// `Some(failed)` when `certify` certified a τ on these rows.
fn certify_rows(s: &SelectionSetting, u: &[f64], e: &[bool], reference: &[f32]) -> Option<bool> {
    let scores: Vec<f32> = u.iter().map(|&v| v as f32).collect();
    let cal = CalibrationSet {
        split: "sim",
        scores: &scores,
        errors: e,
    };
    let refs = ReferenceScores {
        source: "sim",
        scores: reference,
    };
    let t = certify(&cal, &refs, s.r, s.delta).ok()?;
    Some(risk(f64::from(t.tau), s.mu, s.pi) > s.r)
}

/// Runs study (i).
pub fn selection(s: &SelectionSetting, draws: usize, seed: u64) -> SelectionOutcome {
    let per_draw: Vec<([Option<bool>; 3], f64)> = (0..draws)
        .into_par_iter()
        .map(|d| {
            let mut rng = Rng::new(seed, d as u64);
            let (e, u) = rows(s, &mut rng, s.n_select, s.k);
            let all: Vec<usize> = (0..s.n_select).collect();
            let aucs: Vec<f64> = u.iter().filter_map(|c| roc_auc(c, &e)).collect();
            let m = aucs.iter().sum::<f64>() / aucs.len() as f64;
            let sd = (aucs.iter().map(|a| (a - m).powi(2)).sum::<f64>()
                / (aucs.len().max(2) - 1) as f64)
                .sqrt();
            let chosen = best(&u, &e, &all);
            // The reference rows of one scorer: exchangeable, so any column's law.
            let (_, r) = rows(s, &mut rng, s.n_ref, 1);
            let reference: Vec<f32> = r[0].iter().map(|&v| v as f32).collect();
            let same = certify_rows(s, &u[chosen], &e, &reference);
            let (ef, uf) = rows(s, &mut rng, s.n_cal, 1);
            let fresh = certify_rows(s, &uf[0], &ef, &reference);
            // Halves: the first half selects, the second certifies (rows are exchangeable).
            let half = s.n_select / 2;
            let first: Vec<usize> = (0..half).collect();
            let chosen_half = best(&u, &e, &first);
            let u2: Vec<f64> = u[chosen_half][half..].to_vec();
            let split = certify_rows(s, &u2, &e[half..], &reference);
            ([same, fresh, split], sd)
        })
        .collect();
    let rates = |i: usize| {
        let n = per_draw.len() as f64;
        Rates {
            failure: per_draw.iter().filter(|d| d.0[i] == Some(true)).count() as f64 / n,
            certified: per_draw.iter().filter(|d| d.0[i].is_some()).count() as f64 / n,
        }
    };
    SelectionOutcome {
        same_rows: rates(0),
        fresh_rows: rates(1),
        split_halves: rates(2),
        selection_auc_sd: per_draw.iter().map(|d| d.1).sum::<f64>() / per_draw.len() as f64,
        population_auc: normal_cdf(s.mu / std::f64::consts::SQRT_2),
        draws,
    }
}

/// A risk profile of study (ii): `p(u)` and `∫₀^u p`.
pub struct Profile {
    /// Name in the output.
    pub name: &'static str,
    /// `P(error | U = u)`.
    pub p: fn(f64) -> f64,
    /// `∫₀^u p`.
    pub cumulative: fn(f64) -> f64,
}

/// The profiles of study (ii) at R = 0.08 (as `bench/stats/sim_certificate.py`).
pub const PROFILES: [Profile; 4] = [
    Profile {
        name: "linear_0.3u",
        p: |u| 0.3 * u,
        cumulative: |u| 0.15 * u * u,
    },
    Profile {
        name: "spike_then_rise",
        p: |u| {
            if u < 0.02 {
                0.5
            } else if u < 0.5 {
                0.02
            } else {
                0.3
            }
        },
        cumulative: |u| {
            if u < 0.02 {
                0.5 * u
            } else if u < 0.5 {
                0.01 + 0.02 * (u - 0.02)
            } else {
                0.01 + 0.0096 + 0.3 * (u - 0.5)
            }
        },
    },
    Profile {
        name: "flat_just_above_R",
        p: |_| 0.09,
        cumulative: |u| 0.09 * u,
    },
    Profile {
        name: "flat_at_R_then_rise",
        p: |u| if u < 0.6 { 0.08 } else { 0.5 },
        cumulative: |u| {
            if u < 0.6 {
                0.08 * u
            } else {
                0.6 * 0.08 + 0.5 * (u - 0.6)
            }
        },
    },
];

/// Runs study (ii) for one profile: `(failure, certified)` rates.
pub fn restarts(profile: &Profile, n: usize, r: f64, delta: f64, draws: usize, seed: u64) -> Rates {
    let per_draw: Vec<Option<bool>> = (0..draws)
        .into_par_iter()
        .map(|d| {
            let mut rng = Rng::new(seed, d as u64);
            let u: Vec<f32> = (0..n).map(|_| rng.uniform() as f32).collect();
            let e: Vec<bool> = u
                .iter()
                .map(|&v| rng.bernoulli((profile.p)(f64::from(v))))
                .collect();
            let reference: Vec<f32> = (0..n).map(|_| rng.uniform() as f32).collect();
            let cal = CalibrationSet {
                split: "sim",
                scores: &u,
                errors: &e,
            };
            let refs = ReferenceScores {
                source: "sim",
                scores: &reference,
            };
            let t = certify(&cal, &refs, r, delta).ok()?;
            let tau = f64::from(t.tau).max(1e-12);
            Some((profile.cumulative)(tau) / tau > r)
        })
        .collect();
    let k = draws as f64;
    Rates {
        failure: per_draw.iter().filter(|d| **d == Some(true)).count() as f64 / k,
        certified: per_draw.iter().filter(|d| d.is_some()).count() as f64 / k,
    }
}
