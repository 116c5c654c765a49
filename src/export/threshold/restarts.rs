//! The fallback procedure's restart points, fixed before the calibration rows are seen.
//!
//! Restart `j` carries `δ/2^(j+1)` of the error budget. It sits at the threshold `τ_j` =
//! the quantile of `U` on **reference rows** that are not calibration rows (the training
//! rows) at the fraction `(m_j + 2√m_j) / N_cal`, `m_j = m₀·2^j`, where `m₀ =
//! min_accepted(R, δ/2)` is the fewest rows that can pass at all. So it accepts about `m_j`
//! calibration rows plus two binomial standard deviations: aimed at `m_j` itself it would
//! accept fewer than `m_j` rows about half the time and lose its whole budget (measured in
//! `benches/stats.rs certificate`: 72% → 80% of draws certified on 200 calibration rows,
//! failures unchanged). Being a function of the reference rows only, the points are fixed
//! given them, which is what the fallback procedure's guarantee (Wiens 2003) needs (see the
//! module docs of [`super`]).

use super::clopper_pearson::min_accepted;

/// The restart thresholds `τ_0 ≤ τ_1 ≤ …` (restart `j` carries `δ/2^(j+1)`) for
/// `calibration_rows` calibration rows: the `inverted_cdf` quantiles of `reference` (the
/// smallest value with at least that fraction of the reference at or below it) at
/// `min(1, (m_j + ⌈2√m_j⌉) / N_cal)`, `m_j = m₀·2^j`, for every `j` with `m_j ≤ N_cal`.
/// Empty without reference rows (or with a non-finite one) or when `m₀ > N_cal`.
pub fn restart_thresholds(
    reference: &[f32],
    calibration_rows: usize,
    target_risk: f64,
    delta: f64,
) -> Vec<f32> {
    if reference.is_empty() || reference.iter().any(|u| !u.is_finite()) {
        return Vec::new();
    }
    let mut sorted = reference.to_vec();
    sorted.sort_by(f32::total_cmp);
    restart_thresholds_sorted(&sorted, calibration_rows, target_risk, delta)
}

/// [`restart_thresholds`] on an already sorted, finite, non-empty reference.
pub(super) fn restart_thresholds_sorted(
    sorted: &[f32],
    calibration_rows: usize,
    target_risk: f64,
    delta: f64,
) -> Vec<f32> {
    let m0 = min_accepted(target_risk, delta / 2.0);
    let n_ref = sorted.len() as u128;
    let mut out = Vec::new();
    let mut m = m0;
    while m <= calibration_rows && !sorted.is_empty() {
        // Two binomial standard deviations above m rows, at most all of them.
        let aim = (m + (2.0 * (m as f64).sqrt()).ceil() as usize).min(calibration_rows);
        // inverted_cdf at q = aim/N_cal: index ⌈q·n⌉ − 1, in exact integer arithmetic.
        let (m_, n_cal) = (aim as u128, calibration_rows as u128);
        let rank = ((m_ * n_ref).div_ceil(n_cal) as usize).clamp(1, sorted.len());
        out.push(sorted[rank - 1]);
        m = m.saturating_mul(2);
    }
    out
}

/// The budget of restart `j`: `δ/2^(j+1)`.
pub(super) fn restart_weight(delta: f64, j: usize) -> f64 {
    delta / 2f64.powi(j as i32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_at_doubling_fractions() {
        // Reference 0, 1, ..., 999; 400 calibration rows; m₀ = 22 at R 0.1, δ 0.2: m_j =
        // 22, 44, 88, 176, 352 plus ⌈2√m_j⌉ = 10, 14, 19, 27, 38 → fractions 32/400, 58/400,
        // 107/400, 203/400, 390/400 of 1000 rows → indices ⌈1000·q⌉ − 1.
        let reference: Vec<f32> = (0..1000).rev().map(|i| i as f32).collect();
        let t = restart_thresholds(&reference, 400, 0.1, 0.2);
        assert_eq!(t, vec![79.0, 144.0, 267.0, 507.0, 974.0]);
        assert_eq!(restart_weight(0.2, 0), 0.1);
        assert_eq!(restart_weight(0.2, 3), 0.0125);
        assert!(restart_thresholds(&[], 400, 0.1, 0.2).is_empty());
        assert!(restart_thresholds(&[f32::NAN], 400, 0.1, 0.2).is_empty());
        // m₀ = 22 > 20 calibration rows: no restart can ever pass.
        assert!(restart_thresholds(&reference, 20, 0.1, 0.2).is_empty());
    }
}
