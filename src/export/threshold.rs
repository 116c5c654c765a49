//! A certified rejection threshold on the uncertainty `U`.
//!
//! Goal: a threshold `τ` such that, with probability at least `1 − δ` over the
//! calibration sample, the error rate of the original head among accepted inputs
//! (`U ≤ τ`) is at most the target risk `R`. The calibration sample must be data
//! the UE head was not trained on (the validation split) and is assumed
//! exchangeable with deployment data.
//!
//! Method (Learn-then-Test, Angelopoulos et al. 2021, with the fallback procedure
//! of Wiens 2003 as the family-wise error control):
//! - every distinct calibration value `u` of `U`, ascending (most confident first),
//!   is a candidate `τ`; a candidate accepts `n` rows of which `k` are errors;
//! - the null hypothesis "risk(τ) > R" is rejected at level `a` when the exact
//!   one-sided Clopper-Pearson upper bound `UCB(k, n; a)` (the `1 − a` quantile of
//!   `Beta(k + 1, n − k)`) is at most `R`;
//! - the candidates are tested in that fixed order. The error budget `δ` is spent
//!   at restart points fixed by rank: `δ/2` at the first candidate accepting at least
//!   `m₀` rows, `δ/4` at `2m₀`, `δ/8` at `4m₀`, ..., where `m₀ = ⌈ln(δ/2) / ln(1 − R)⌉`
//!   is the fewest rows that can pass at all. A candidate is tested at its own
//!   allocation plus the level of the previous candidate if that one was rejected
//!   (fallback procedure: the level carries forward along a run of rejections and is
//!   lost at a failure). This controls the probability of rejecting any true null at
//!   `δ` for a fixed order, so every rejected candidate is certified simultaneously,
//!   and the largest one is `τ`.
//!
//! Plain fixed-sequence testing (all of `δ` on the first candidate, stop at the first
//! failure) is the special case with a single restart point; it stops for good when
//! one of the few most confident rows is an error, which on a few hundred calibration
//! rows happens often. The later restart points let the sequence recover at a
//! smaller level. The restart points are placed by rank (the number of accepted rows),
//! so they depend on the data only through counts fixed by `(R, δ)`.

use statrs::distribution::{Beta, Continuous, ContinuousCDF};

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
}

impl CertifiedThreshold {
    /// Fraction of calibration rows accepted.
    pub fn coverage(&self) -> f64 {
        self.accepted as f64 / self.calibration_rows as f64
    }

    /// The guarantee in one sentence, as recorded in the ONNX metadata.
    pub fn guarantee(&self) -> String {
        format!(
            "with probability >= {} over the draw of the '{}' split ({} rows, assumed \
             exchangeable with deployment inputs), the error rate of the original head among \
             inputs with uncertainty <= {} is at most {} (exact one-sided Clopper-Pearson bounds, \
             Learn-then-Test over the distinct calibration scores in ascending order with the \
             fallback procedure; calibration: {} accepted, {} errors, upper bound {:.6} at \
             level {:e})",
            1.0 - self.delta,
            self.calibration_split,
            self.calibration_rows,
            self.tau,
            self.target_risk,
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
    /// No candidate threshold passed.
    #[error(
        "no threshold certifies risk <= {target_risk} with delta = {delta} on the '{split}' split \
         ({rows} rows): {reason}"
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
        /// Smallest upper bound reached at any single candidate, with where.
        reason: String,
    },
}

/// Exact one-sided Clopper-Pearson upper confidence bound: the `1 − δ` quantile of
/// `Beta(k + 1, n − k)`, which covers the true error probability with probability
/// at least `1 − δ` given `k` errors in `n` trials. `1` when `k = n` (including `n = 0`).
pub fn clopper_pearson_upper(k: usize, n: usize, delta: f64) -> f64 {
    if k >= n {
        return 1.0;
    }
    if k == 0 {
        // Beta(1, n): the quantile is 1 − δ^(1/n), written to keep full precision.
        return -(delta.ln() / n as f64).exp_m1();
    }
    beta_quantile(k as f64 + 1.0, (n - k) as f64, 1.0 - delta)
}

/// Quantile of `Beta(a, b)` at `p`. statrs' inverse (AS 64/109) is accurate to about
/// 1e-8 relative; three Newton steps on `I_x(a, b) − p` bring it to the accuracy of
/// the regularised incomplete beta function itself.
fn beta_quantile(a: f64, b: f64, p: f64) -> f64 {
    let Ok(beta) = Beta::new(a, b) else {
        // Only for non-positive or non-finite shapes, which callers never pass.
        return f64::NAN;
    };
    let mut x = beta.inverse_cdf(p);
    for _ in 0..3 {
        let density = beta.pdf(x);
        if !(density.is_finite() && density > 0.0) {
            break;
        }
        let next = x - (beta.cdf(x) - p) / density;
        if !(next > 0.0 && next < 1.0) {
            break;
        }
        x = next;
    }
    x
}

/// One candidate threshold: a distinct calibration score and the rows it accepts.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    tau: f32,
    accepted: usize,
    errors: usize,
}

/// Distinct scores ascending with the cumulative accepted / error counts.
fn candidates(scores: &[f32], errors: &[bool]) -> Vec<Candidate> {
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
            });
        }
    }
    out
}

/// Certifies a rejection threshold on a held-out calibration split (see the module
/// docs): `scores` are the AdUE `U` per row, `errors[i]` whether the original head
/// is wrong on row `i`, `split` names the split for the record.
pub fn certify(
    scores: &[f32],
    errors: &[bool],
    target_risk: f64,
    delta: f64,
    split: &str,
) -> Result<CertifiedThreshold, ThresholdError> {
    if !(target_risk > 0.0 && target_risk < 1.0) {
        return Err(ThresholdError::TargetRisk { got: target_risk });
    }
    if !(delta > 0.0 && delta < 1.0) {
        return Err(ThresholdError::Delta { got: delta });
    }
    if scores.len() != errors.len() {
        return Err(ThresholdError::Length {
            split: split.to_string(),
            scores: scores.len(),
            errors: errors.len(),
        });
    }
    if let Some((row, &value)) = scores.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(ThresholdError::NonFinite {
            split: split.to_string(),
            row,
            value,
        });
    }
    let cands = candidates(scores, errors);
    let allocation = restart_allocation(&cands, target_risk, delta);
    // (candidate, its UCB, the level it was rejected at), for every rejection.
    let mut certified: Vec<(Candidate, f64, f64)> = Vec::new();
    let mut level = 0.0;
    for (c, a) in cands.iter().zip(allocation) {
        level += a;
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
    let count = certified.len();
    match certified.pop() {
        Some((c, ucb, level)) => Ok(CertifiedThreshold {
            tau: c.tau,
            target_risk,
            delta,
            calibration_split: split.to_string(),
            calibration_rows: scores.len(),
            accepted: c.accepted,
            errors: c.errors,
            risk_upper_bound: ucb,
            level,
            candidates_certified: count,
        }),
        None => Err(ThresholdError::NotAchievable {
            split: split.to_string(),
            rows: scores.len(),
            target_risk,
            delta,
            reason: best_achievable(&cands, delta, target_risk),
        }),
    }
}

/// Fewest accepted rows for which zero errors pass at level `a`: `UCB(0, n; a) =
/// 1 − a^(1/n) ≤ R` ⟺ `n ≥ ln a / ln(1 − R)`.
pub fn min_accepted(target_risk: f64, a: f64) -> usize {
    let approx = (a.ln() / (1.0 - target_risk).ln()).ceil().max(1.0) as usize;
    // Settle rounding at the boundary with the bound itself.
    (approx.saturating_sub(1).max(1)..)
        .find(|&n| clopper_pearson_upper(0, n, a) <= target_risk)
        .unwrap_or(approx)
}

/// The fallback procedure's allocation of `δ` over the candidates: `δ/2^(j+1)` at the
/// first candidate accepting at least `m₀·2^j` rows (`m₀ = min_accepted(R, δ/2)`),
/// zero elsewhere. Several restart points falling on one candidate add up.
fn restart_allocation(cands: &[Candidate], target_risk: f64, delta: f64) -> Vec<f64> {
    let m0 = min_accepted(target_risk, delta / 2.0);
    let mut out = vec![0.0; cands.len()];
    let (mut point, mut weight) = (m0, delta / 2.0);
    let mut i = 0;
    while i < cands.len() {
        if cands[i].accepted >= point {
            out[i] += weight;
            point = point.saturating_mul(2);
            weight /= 2.0;
        } else {
            i += 1;
        }
    }
    out
}

/// Describes the smallest upper bound any single candidate reaches.
fn best_achievable(cands: &[Candidate], delta: f64, target_risk: f64) -> String {
    let best = cands
        .iter()
        .map(|c| (c, clopper_pearson_upper(c.errors, c.accepted, delta)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    match best {
        None => "the split is empty".to_string(),
        Some((c, ucb)) if ucb <= target_risk => format!(
            "a single threshold reaches bound {ucb:.6} at level delta (tau = {}, {} accepted, \
             {} errors), but not at the level the sequence had left for it; ask for a larger \
             target risk or delta, or use more calibration rows",
            c.tau, c.accepted, c.errors
        ),
        Some((c, ucb)) => format!(
            "the best achievable risk bound is {ucb:.6}, at tau = {} ({} accepted, {} errors); \
             ask for a target risk of at least that, a larger delta, or more calibration rows",
            c.tau, c.accepted, c.errors
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_errors_has_closed_form() {
        // UCB(0, n) = 1 − δ^(1/n).
        for n in [1usize, 7, 100, 5000] {
            let want = 1.0 - 0.05f64.powf(1.0 / n as f64);
            let got = clopper_pearson_upper(0, n, 0.05);
            assert!((got - want).abs() < 1e-12, "n={n}: {got} vs {want}");
        }
        assert_eq!(clopper_pearson_upper(3, 3, 0.1), 1.0);
        assert_eq!(clopper_pearson_upper(0, 0, 0.1), 1.0);
    }

    #[test]
    fn candidates_group_ties() {
        let c = candidates(&[0.3, 0.1, 0.3, 0.2], &[true, false, false, true]);
        let got: Vec<_> = c.iter().map(|c| (c.tau, c.accepted, c.errors)).collect();
        assert_eq!(got, vec![(0.1, 1, 0), (0.2, 2, 1), (0.3, 4, 2)]);
    }

    #[test]
    fn restart_points_double_and_halve() {
        let scores: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let c = candidates(&scores, &vec![false; 1000]);
        let a = restart_allocation(&c, 0.1, 0.2);
        let m0 = min_accepted(0.1, 0.1);
        assert_eq!(m0, 22); // ln 0.1 / ln 0.9 = 21.85
        let points: Vec<(usize, f64)> = a
            .iter()
            .enumerate()
            .filter(|(_, &w)| w > 0.0)
            .map(|(i, &w)| (c[i].accepted, w))
            .collect();
        assert_eq!(
            points,
            vec![
                (22, 0.1),
                (44, 0.05),
                (88, 0.025),
                (176, 0.0125),
                (352, 0.00625),
                (704, 0.003125)
            ]
        );
        assert!(a.iter().sum::<f64>() < 0.2);
    }

    #[test]
    fn a_failure_forfeits_the_level_until_the_next_restart() {
        // Errors at ranks 30..36 break the run that starts at m0 = 22; the rows after
        // them are clean but cannot be certified before the restart point at 44.
        let n = 120;
        let scores: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let errors: Vec<bool> = (0..n).map(|i| (30..36).contains(&i)).collect();
        let (r, d) = (0.1, 0.2);
        let cands = candidates(&scores, &errors);
        let alloc = restart_allocation(&cands, r, d);
        let mut level = 0.0;
        let mut passed = Vec::new();
        for (c, a) in cands.iter().zip(&alloc) {
            level += a;
            if level > 0.0 && clopper_pearson_upper(c.errors, c.accepted, level) <= r {
                passed.push(c.accepted);
            } else {
                level = 0.0;
            }
        }
        // Certified 22..=30 (no error yet), then nothing until a later restart.
        assert_eq!(&passed[..9], &(22..=30).collect::<Vec<_>>()[..]);
        assert!(passed[9..].iter().all(|&k| k >= 44), "{passed:?}");
        let t = certify(&scores, &errors, r, d, "val").unwrap();
        assert_eq!(t.accepted, *passed.last().unwrap());
        assert_eq!(t.candidates_certified, passed.len());
        assert!(t.level <= d && t.risk_upper_bound <= r);
        assert_eq!(
            t.risk_upper_bound,
            clopper_pearson_upper(t.errors, t.accepted, t.level)
        );
    }

    #[test]
    fn unreachable_target_names_best_bound() {
        let scores: Vec<f32> = (0..50).map(|i| i as f32).collect();
        let errors = vec![false; 50];
        let e = certify(&scores, &errors, 0.01, 0.05, "val").unwrap_err();
        let msg = e.to_string();
        let best = clopper_pearson_upper(0, 50, 0.05);
        assert!(msg.contains(&format!("{best:.6}")), "{msg}");
        assert!(msg.contains("'val'"), "{msg}");
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(matches!(
            certify(&[0.1], &[false], 1.0, 0.1, "val"),
            Err(ThresholdError::TargetRisk { .. })
        ));
        assert!(matches!(
            certify(&[0.1], &[false], 0.1, 0.0, "val"),
            Err(ThresholdError::Delta { .. })
        ));
        assert!(matches!(
            certify(&[0.1, 0.2], &[false], 0.1, 0.1, "val"),
            Err(ThresholdError::Length { .. })
        ));
        assert!(matches!(
            certify(&[f32::NAN], &[false], 0.1, 0.1, "val"),
            Err(ThresholdError::NonFinite { row: 0, .. })
        ));
    }

    /// Simulated calibration draws with U ~ Uniform(0, 1) and P(error | U = u) = a·u,
    /// so the risk of `U ≤ τ` is exactly a·τ/2 and τ is valid iff τ ≤ 2R/a.
    /// Returns (draws certified, draws whose τ is invalid).
    fn simulate(a: f64, target: f64, delta: f64, n: usize, trials: usize) -> (usize, usize) {
        use rand::{Rng, SeedableRng};
        let limit = 2.0 * target / a;
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let (mut violations, mut certified) = (0, 0);
        for _ in 0..trials {
            let scores: Vec<f32> = (0..n).map(|_| rng.gen::<f32>()).collect();
            let errors: Vec<bool> = scores
                .iter()
                .map(|&u| rng.gen::<f64>() < a * f64::from(u))
                .collect();
            if let Ok(t) = certify(&scores, &errors, target, delta, "sim") {
                certified += 1;
                if f64::from(t.tau) > limit {
                    violations += 1;
                }
            }
        }
        (certified, violations)
    }

    /// At most δ of the draws may certify an invalid τ (plus 3σ of simulation noise).
    fn violation_bound(delta: f64, trials: usize) -> usize {
        let t = trials as f64;
        (delta * t + 3.0 * (delta * (1.0 - delta) * t).sqrt()) as usize
    }

    #[test]
    fn guarantee_holds_by_simulation() {
        // Wide window (valid up to 67% coverage): certifies in almost every draw.
        let (certified, violations) = simulate(0.3, 0.1, 0.1, 1000, 200);
        assert!(certified >= 190, "certified {certified}/200");
        assert!(violations <= violation_bound(0.1, 200), "{violations}/200");
        // Narrow window (valid up to 25% coverage of 600 rows): certification is
        // harder, the guarantee must hold all the same.
        let (certified, violations) = simulate(0.4, 0.05, 0.2, 600, 300);
        assert!(certified >= 120, "certified {certified}/300");
        assert!(violations <= violation_bound(0.2, 300), "{violations}/300");
    }
}
