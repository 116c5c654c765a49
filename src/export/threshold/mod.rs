//! A certified rejection threshold on the uncertainty `U`.
//!
//! Goal: a threshold `τ` such that, with probability at least `1 − δ` over the
//! calibration sample, the error rate of the original head among accepted inputs
//! (`U ≤ τ`) is at most the target risk `R`. The calibration rows must have played no
//! part in fitting or selecting the UE head (else the head was chosen because it looks good
//! on them, and the bound is optimistic: 17–20% failures at δ = 0.1 in `benches/stats.rs
//! certificate`), and are assumed exchangeable with deployment data.
//!
//! Method (Learn-then-Test, Angelopoulos et al. 2021, with the fallback procedure of Wiens
//! 2003 as the family-wise error control):
//! - every threshold `τ` is a hypothesis "risk(τ) > R", tested in ascending order of `τ`
//!   (most confident first); `τ` accepts the `n(τ)` calibration rows with `U ≤ τ`, `k(τ)` of
//!   them errors, and is rejected at level `a` when the exact one-sided Clopper-Pearson bound
//!   `UCB(k, n; a)` (the `1 − a` quantile of `Beta(k + 1, n − k)`) is at most `R`;
//! - the error budget is placed at **restart thresholds fixed before the calibration rows
//!   are seen** ([`restart_thresholds`]: `δ/2^(j+1)` at `τ_j`, a quantile of `U` on the
//!   training rows); a threshold is tested at the sum of the budgets placed since the last
//!   threshold that was not rejected (the level carries along a run of rejections and is
//!   lost at a failure);
//! - every rejected threshold is certified simultaneously; the largest is `τ`.
//!
//! **Why this is valid.** `n(τ)` and `k(τ)` change only at calibration scores, so every `τ`
//! between two consecutive candidates gets the same test as the lower one, and testing the
//! continuum of `τ` in order is exactly testing the finite candidate list: the distinct
//! calibration scores plus the restart thresholds (a restart carries the counts of the
//! largest calibration score at or below it). The restart points and their budgets are
//! fixed given the training rows, independent of the calibration rows. At a fixed `τ`,
//! `k(τ) | n(τ) ~ Bin(n(τ), risk(τ))`, so the Clopper-Pearson test has size at most its
//! level. Let `τ*_t` be the first point of the `t`-th interval of `{τ : risk(τ) > R}`; if no
//! earlier true hypothesis was rejected, its level is at most the budgets placed since the
//! previous such interval, these sums over `t` add up to at most `δ`, so the probability of
//! rejecting any true hypothesis is at most `δ` (Wiens 2003). Restarts placed by rank (at
//! the `m₀·2^j`-th calibration score, the previous version) make the points data-dependent
//! and are valid only up to O(1/N) terms; fixed thresholds make the textbook theorem apply.
//!
//! When nothing is certified, the error states the smallest target risk this procedure
//! (same δ, same reference rows) would certify on this split ([`smallest_certifiable_risk`]),
//! labelled uncertified: it was chosen after seeing the calibration data.

mod clopper_pearson;
mod restarts;
#[cfg(test)]
mod tests;

pub use clopper_pearson::{clopper_pearson_upper, min_accepted};
pub use restarts::restart_thresholds;

use restarts::{restart_thresholds_sorted, restart_weight};

/// The calibration rows: AdUE's `U` and whether the original head is wrong, per row.
#[derive(Debug, Clone, Copy)]
pub struct CalibrationSet<'a> {
    /// The split's name, for the record (e.g. `val`).
    pub split: &'a str,
    /// `U` per row (f32, what the exported graph computes).
    pub scores: &'a [f32],
    /// Whether the original head is wrong on the row.
    pub errors: &'a [bool],
}

/// `U` on rows outside the calibration split (the training rows): places the restarts.
#[derive(Debug, Clone, Copy)]
pub struct ReferenceScores<'a> {
    /// Where the scores come from, for the record.
    pub source: &'a str,
    /// `U` per row.
    pub scores: &'a [f32],
}

/// A rejection threshold together with the evidence that certifies it.
#[derive(Debug, Clone, PartialEq)]
pub struct CertifiedThreshold {
    /// Accept an input when `U ≤ tau`.
    pub tau: f32,
    /// Target risk `R`: the bound on the error rate among accepted inputs.
    pub target_risk: f64,
    /// Failure probability `δ` of the guarantee.
    pub delta: f64,
    /// Name of the calibration split (e.g. `val`).
    pub calibration_split: String,
    /// Rows in the calibration split.
    pub calibration_rows: usize,
    /// Calibration rows with `U ≤ tau`.
    pub accepted: usize,
    /// Errors of the original head among them.
    pub errors: usize,
    /// `UCB(errors, accepted; level)`, at most `target_risk`.
    pub risk_upper_bound: f64,
    /// The level (≤ δ) at which `tau`'s hypothesis was rejected by the fallback procedure.
    pub level: f64,
    /// Candidates that were rejected (certified) along the sequence.
    pub candidates_certified: usize,
    /// The restart thresholds (restart `j` carries `δ/2^(j+1)`).
    pub restarts: Vec<f32>,
    /// Where the restart thresholds come from.
    pub restart_source: String,
}

impl CertifiedThreshold {
    /// Fraction of calibration rows accepted.
    pub fn coverage(&self) -> f64 {
        self.accepted as f64 / self.calibration_rows as f64
    }

    /// The guarantee in one sentence, as recorded in the ONNX metadata.
    pub fn guarantee(&self) -> String {
        format!(
            "with probability >= {} over the draw of the '{}' split ({} rows that took no part \
             in fitting or selecting the head, assumed exchangeable with deployment inputs), \
             the error rate of the original head among inputs with uncertainty <= {} is at \
             most {} (exact one-sided Clopper-Pearson bounds, Learn-then-Test over the \
             thresholds in ascending order with the fallback procedure restarting at {} \
             thresholds fixed from {}; calibration: {} accepted, {} errors, upper bound {:.6} \
             at level {:e})",
            1.0 - self.delta,
            self.calibration_split,
            self.calibration_rows,
            self.tau,
            self.target_risk,
            self.restarts.len(),
            self.restart_source,
            self.accepted,
            self.errors,
            self.risk_upper_bound,
            self.level
        )
    }
}

/// Why no threshold was certified.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ThresholdError {
    /// `target_risk` must lie in (0, 1).
    #[error("--target-risk must be in (0, 1), got {got}")]
    TargetRisk {
        /// The value given.
        got: f64,
    },
    /// `delta` must lie in (0, 1).
    #[error("--delta must be in (0, 1), got {got}")]
    Delta {
        /// The value given.
        got: f64,
    },
    /// Scores and error flags differ in length.
    #[error("calibration split '{split}': {scores} uncertainty scores but {errors} error flags")]
    Length {
        /// Calibration split name.
        split: String,
        /// Number of scores.
        scores: usize,
        /// Number of error flags.
        errors: usize,
    },
    /// A score is NaN or infinite.
    #[error("calibration split '{split}': uncertainty of row {row} is not finite ({value})")]
    NonFinite {
        /// Calibration split name.
        split: String,
        /// Row index.
        row: usize,
        /// The value.
        value: f32,
    },
    /// The restart thresholds are not finite and ascending, or there are none.
    #[error("restart thresholds from {source_name}: {reason}")]
    Restarts {
        /// Where they came from.
        source_name: String,
        /// What is wrong.
        reason: String,
    },
    /// No candidate threshold passed.
    #[error(
        "no threshold certifies risk <= {target_risk} with delta = {delta} on the '{split}' split \
         ({rows} rows): {}",
        smallest_message(*smallest)
    )]
    NotAchievable {
        /// Calibration split name.
        split: String,
        /// Rows in the calibration split.
        rows: usize,
        /// Requested risk.
        target_risk: f64,
        /// Requested δ.
        delta: f64,
        /// The smallest target risk the procedure certifies on this split, if any.
        smallest: Option<f64>,
    },
}

fn smallest_message(smallest: Option<f64>) -> String {
    match smallest {
        Some(r) => format!(
            "the smallest target risk this procedure certifies on this split at this delta is \
             {r:.4} -- uncertified (chosen after seeing the calibration data); certify it on \
             fresh rows, or use more calibration rows"
        ),
        None => "no target risk below 0.999 is certifiable on this split at this delta; use \
                 more calibration rows or a larger delta"
            .to_string(),
    }
}

/// One candidate threshold: the rows it accepts, and the budget placed at it.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    tau: f32,
    accepted: usize,
    errors: usize,
    budget: f64,
}

/// Distinct calibration scores ascending with the cumulative accepted / error counts.
fn calibration_candidates(scores: &[f32], errors: &[bool]) -> Vec<Candidate> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut out: Vec<Candidate> = Vec::new();
    let (mut n, mut k) = (0, 0);
    for (pos, &i) in order.iter().enumerate() {
        n += 1;
        k += usize::from(errors[i]);
        let last_of_value = order.get(pos + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_value {
            out.push(Candidate {
                tau: scores[i],
                accepted: n,
                errors: k,
                budget: 0.0,
            });
        }
    }
    out
}

/// The calibration candidates merged with the restart thresholds: a restart equal to a
/// calibration score adds its budget there; one in between is a candidate of its own with
/// the counts of the largest calibration score below it.
fn with_restarts(cal: &[Candidate], restarts: &[f32], delta: f64) -> Vec<Candidate> {
    let mut out = cal.to_vec();
    for (j, &t) in restarts.iter().enumerate() {
        let budget = restart_weight(delta, j);
        let pos = out.partition_point(|c| c.tau < t);
        match out.get_mut(pos) {
            Some(c) if c.tau == t => c.budget += budget,
            _ => {
                let (accepted, errors) = match pos.checked_sub(1).map(|p| out[p]) {
                    Some(c) => (c.accepted, c.errors),
                    None => (0, 0),
                };
                out.insert(
                    pos,
                    Candidate {
                        tau: t,
                        accepted,
                        errors,
                        budget,
                    },
                );
            }
        }
    }
    out
}

/// The fallback procedure over the candidates: `(candidate, UCB, level)` of every rejection.
fn fallback(cands: &[Candidate], target_risk: f64) -> Vec<(Candidate, f64, f64)> {
    let mut certified = Vec::new();
    let mut level = 0.0;
    for c in cands {
        level += c.budget;
        let ucb = if level > 0.0 {
            clopper_pearson_upper(c.errors, c.accepted, level)
        } else {
            1.0
        };
        if ucb <= target_risk {
            certified.push((*c, ucb, level));
        } else {
            level = 0.0;
        }
    }
    certified
}

/// Checks `(R, δ)` and the calibration rows.
fn check_inputs(cal: &CalibrationSet, target_risk: f64, delta: f64) -> Result<(), ThresholdError> {
    if !(target_risk > 0.0 && target_risk < 1.0) {
        return Err(ThresholdError::TargetRisk { got: target_risk });
    }
    if !(delta > 0.0 && delta < 1.0) {
        return Err(ThresholdError::Delta { got: delta });
    }
    if cal.scores.len() != cal.errors.len() {
        return Err(ThresholdError::Length {
            split: cal.split.to_string(),
            scores: cal.scores.len(),
            errors: cal.errors.len(),
        });
    }
    if let Some((row, &value)) = cal.scores.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(ThresholdError::NonFinite {
            split: cal.split.to_string(),
            row,
            value,
        });
    }
    Ok(())
}

/// Certifies a rejection threshold on `cal` with the given restart thresholds (ascending;
/// restart `j` carries `δ/2^(j+1)`), see the module docs. On failure the error carries no
/// smallest certifiable risk (that needs the reference rows: [`certify`]).
pub fn certify_with_restarts(
    cal: &CalibrationSet,
    restarts: &[f32],
    source: &str,
    target_risk: f64,
    delta: f64,
) -> Result<CertifiedThreshold, ThresholdError> {
    check_inputs(cal, target_risk, delta)?;
    let bad = |reason: &str| ThresholdError::Restarts {
        source_name: source.to_string(),
        reason: reason.to_string(),
    };
    if restarts.iter().any(|t| !t.is_finite()) {
        return Err(bad("a threshold is not finite"));
    }
    if restarts.windows(2).any(|w| w[0] > w[1]) {
        return Err(bad("the thresholds are not in ascending order"));
    }
    let cands = with_restarts(
        &calibration_candidates(cal.scores, cal.errors),
        restarts,
        delta,
    );
    let mut certified = fallback(&cands, target_risk);
    let count = certified.len();
    match certified.pop() {
        Some((c, ucb, level)) => Ok(CertifiedThreshold {
            tau: c.tau,
            target_risk,
            delta,
            calibration_split: cal.split.to_string(),
            calibration_rows: cal.scores.len(),
            accepted: c.accepted,
            errors: c.errors,
            risk_upper_bound: ucb,
            level,
            candidates_certified: count,
            restarts: restarts.to_vec(),
            restart_source: source.to_string(),
        }),
        None => Err(ThresholdError::NotAchievable {
            split: cal.split.to_string(),
            rows: cal.scores.len(),
            target_risk,
            delta,
            smallest: None,
        }),
    }
}

/// Certifies a rejection threshold on `cal`, the restarts placed by `reference`
/// ([`restart_thresholds`]). When no threshold qualifies, the error states the smallest
/// target risk the same procedure certifies on this split (uncertified).
pub fn certify(
    cal: &CalibrationSet,
    reference: &ReferenceScores,
    target_risk: f64,
    delta: f64,
) -> Result<CertifiedThreshold, ThresholdError> {
    check_inputs(cal, target_risk, delta)?;
    let sorted = sorted_reference(reference)?;
    let restarts = restart_thresholds_sorted(&sorted, cal.scores.len(), target_risk, delta);
    match certify_with_restarts(cal, &restarts, reference.source, target_risk, delta) {
        Err(ThresholdError::NotAchievable { .. }) => Err(ThresholdError::NotAchievable {
            split: cal.split.to_string(),
            rows: cal.scores.len(),
            target_risk,
            delta,
            smallest: smallest_certifiable_risk(cal, reference, delta),
        }),
        other => other,
    }
}

/// The reference scores sorted; an error when empty or not finite.
fn sorted_reference(reference: &ReferenceScores) -> Result<Vec<f32>, ThresholdError> {
    let bad = |reason: &str| ThresholdError::Restarts {
        source_name: reference.source.to_string(),
        reason: reason.to_string(),
    };
    if reference.scores.is_empty() {
        return Err(bad("no reference rows to place the restarts"));
    }
    if reference.scores.iter().any(|u| !u.is_finite()) {
        return Err(bad("a reference uncertainty is not finite"));
    }
    let mut sorted = reference.scores.to_vec();
    sorted.sort_by(f32::total_cmp);
    Ok(sorted)
}

/// The smallest target risk `R*` for which [`certify`] (same δ, same reference) certifies a
/// threshold on `cal`, by bisection on `R` in `(0, 0.999]` to 1e-6 (certification is not
/// strictly monotone in `R`, since the restart points move with it, so this is the boundary
/// the bisection finds; it always certifies). `None` when even `R = 0.999` does not
/// certify. Post hoc: chosen after seeing the calibration data, so not itself certified.
pub fn smallest_certifiable_risk(
    cal: &CalibrationSet,
    reference: &ReferenceScores,
    delta: f64,
) -> Option<f64> {
    let sorted = sorted_reference(reference).ok()?;
    check_inputs(cal, 0.5, delta).ok()?;
    let base = calibration_candidates(cal.scores, cal.errors);
    let certifies = |r: f64| {
        let restarts = restart_thresholds_sorted(&sorted, cal.scores.len(), r, delta);
        !fallback(&with_restarts(&base, &restarts, delta), r).is_empty()
    };
    let (mut lo, mut hi) = (0.0f64, 0.999f64);
    if !certifies(hi) {
        return None;
    }
    while hi - lo > 1e-6 {
        let mid = 0.5 * (lo + hi);
        if certifies(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}
