//! Selective prediction: risk–coverage curve, AURC, E-AURC and PRR (CONTRACT §5).
//!
//! Samples are accepted in ascending order of uncertainty `u`; the selective risk at
//! coverage `k/N` is the error rate of the `k` most trusted samples. Samples with tied
//! scores enter together, so the curve has one point per distinct score. It starts at
//! `(0, risk of the first point)` and its area over coverage `[0, 1]` is taken by the
//! trapezoid rule, unscaled.

use super::ranking::{Group, Ranking};
use super::roc_auc::roc_auc_from_groups;

/// The four ranking metrics of one score on one (re)sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SelectiveMetrics {
    /// Error ROC-AUC; `None` when there is no error or only errors.
    pub roc_auc: Option<f64>,
    /// Area under the risk–coverage curve.
    pub aurc: f64,
    /// `AURC − AURC_oracle`.
    pub e_aurc: f64,
    /// Prediction rejection ratio `(AURC_random − AURC) / (AURC_random − AURC_oracle)`;
    /// `None` when there is no error or only errors (0/0).
    pub prr: Option<f64>,
}

impl SelectiveMetrics {
    /// Computes the metrics from a ranking, the error flags and optional multiplicities
    /// (a bootstrap resample); `None` when no sample has weight.
    pub fn compute(ranking: &Ranking, errors: &[bool], weights: Option<&[u32]>) -> Option<Self> {
        let groups: Vec<Group> = ranking.groups(errors, weights).collect();
        let (aurc, n, n_err) = aurc_from_groups(groups.iter().copied())?;
        let oracle = oracle_aurc(n, n_err);
        let random = n_err / n;
        let prr = (n_err > 0.0 && n_err < n).then(|| (random - aurc) / (random - oracle));
        Some(SelectiveMetrics {
            roc_auc: roc_auc_from_groups(groups.into_iter()),
            aurc,
            e_aurc: aurc - oracle,
            prr,
        })
    }

    /// The metrics of raw `scores` against `errors`; `None` when empty, of different
    /// lengths, or when a score is NaN.
    pub fn of_scores(scores: &[f64], errors: &[bool]) -> Option<Self> {
        if scores.len() != errors.len() {
            return None;
        }
        Self::compute(&Ranking::new(scores)?, errors, None)
    }
}

/// AURC from the runs of tied scores in ascending order, with the (weighted) sample and
/// error totals: `(AURC, N, E)`. `None` when there is no sample.
pub fn aurc_from_groups(groups: impl Iterator<Item = Group>) -> Option<(f64, f64, f64)> {
    let (mut area, mut k, mut k_err) = (0.0f64, 0.0f64, 0.0f64);
    let mut prev_risk: Option<f64> = None;
    for g in groups {
        let (k_new, err_new) = (k + g.total, k_err + g.errors);
        let risk = err_new / k_new;
        // The curve starts at (0, first risk): the first segment is flat.
        let r0 = prev_risk.unwrap_or(risk);
        area += g.total * (r0 + risk) / 2.0;
        (k, k_err, prev_risk) = (k_new, err_new, Some(risk));
    }
    (k > 0.0).then(|| (area / k, k, k_err))
}

/// AURC of the oracle that ranks every correct sample before every error, one point per
/// sample: risk `r_k = max(0, k − C)/k` at coverage `k/N` (`C = N − E` correct samples),
/// starting at `(0, r_1)`. Closed form of the trapezoid sum:
/// `(Σ_k r_k − r_N/2 + r_1/2) / N`.
pub fn oracle_aurc(n: f64, n_err: f64) -> f64 {
    let correct = n - n_err;
    if correct <= 0.0 {
        return 1.0;
    }
    // r_k = 0 for k ≤ C (and C ≥ 1, so r_1 = 0).
    let mut sum = 0.0f64;
    let mut k = correct + 1.0;
    while k <= n {
        sum += (k - correct) / k;
        k += 1.0;
    }
    (sum - (n_err / n) / 2.0) / n
}

/// The risk–coverage curve of `scores` as `(coverage, risk)` points: the start point
/// `(0, r₁)` and one point per distinct score. Empty when a score is NaN or the lengths
/// differ.
pub fn risk_coverage_curve(scores: &[f64], errors: &[bool]) -> Vec<(f64, f64)> {
    let ranking = match Ranking::new(scores) {
        Some(r) if scores.len() == errors.len() => r,
        _ => return Vec::new(),
    };
    let n = scores.len() as f64;
    let (mut k, mut k_err) = (0.0, 0.0);
    let mut points = Vec::with_capacity(ranking.num_groups() + 1);
    for g in ranking.groups(errors, None) {
        k += g.total;
        k_err += g.errors;
        if points.is_empty() {
            points.push((0.0, k_err / k));
        }
        points.push((k / n, k_err / k));
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, literally: points per distinct score, trapezoid from (0, r₁).
    fn aurc_by_definition(scores: &[f64], errors: &[bool]) -> f64 {
        let pts = risk_coverage_curve(scores, errors);
        pts.windows(2)
            .map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0)
            .sum()
    }

    #[test]
    fn aurc_by_hand_with_ties() {
        // Sorted: 0.1 (ok), 0.2 (err, ok tied), 0.9 (err).
        // Points: (1/4, 0), (3/4, 1/3), (1, 1/2); start (0, 0).
        let s = [0.2, 0.1, 0.9, 0.2];
        let e = [true, false, true, false];
        let m = SelectiveMetrics::of_scores(&s, &e).unwrap();
        let expect = 0.25 * 0.0 + 0.5 * (0.0 + 1.0 / 3.0) / 2.0 + 0.25 * (1.0 / 3.0 + 0.5) / 2.0;
        assert!((m.aurc - expect).abs() < 1e-15, "{} vs {expect}", m.aurc);
        assert!((m.aurc - aurc_by_definition(&s, &e)).abs() < 1e-15);
    }

    #[test]
    fn oracle_matches_its_definition() {
        for (n, e) in [(10usize, 3usize), (7, 1), (5, 4), (1, 0), (4, 0)] {
            // The oracle's curve is the curve of a score that puts errors last, untied.
            let scores: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let errors: Vec<bool> = (0..n).map(|i| i >= n - e).collect();
            let direct = aurc_by_definition(&scores, &errors);
            let closed = oracle_aurc(n as f64, e as f64);
            assert!(
                (direct - closed).abs() < 1e-15,
                "n={n} e={e}: {direct} {closed}"
            );
        }
        assert_eq!(oracle_aurc(3.0, 3.0), 1.0);
    }

    #[test]
    fn perfect_random_and_constant_scores() {
        let e = [false, false, true, false, true];
        let perfect = [0.0, 0.1, 0.9, 0.2, 0.8];
        let m = SelectiveMetrics::of_scores(&perfect, &e).unwrap();
        assert!(m.e_aurc.abs() < 1e-15);
        assert!((m.prr.unwrap() - 1.0).abs() < 1e-12);
        // A constant score is one point at coverage 1: AURC = error rate, PRR = 0.
        let m = SelectiveMetrics::of_scores(&[0.5; 5], &e).unwrap();
        assert!((m.aurc - 0.4).abs() < 1e-15);
        assert_eq!(m.prr, Some(0.0));
        assert_eq!(m.roc_auc, Some(0.5));
    }

    #[test]
    fn degenerate_error_sets_are_stated_not_nan() {
        let m = SelectiveMetrics::of_scores(&[0.1, 0.2], &[false, false]).unwrap();
        assert_eq!((m.roc_auc, m.prr, m.aurc, m.e_aurc), (None, None, 0.0, 0.0));
        let m = SelectiveMetrics::of_scores(&[0.1, 0.2], &[true, true]).unwrap();
        assert_eq!((m.roc_auc, m.prr, m.aurc, m.e_aurc), (None, None, 1.0, 0.0));
        assert!(SelectiveMetrics::of_scores(&[], &[]).is_none());
    }

    #[test]
    fn weights_equal_explicit_repetition() {
        // Scores with ties; multiplicities as a bootstrap resample would give.
        let scores: Vec<f64> = (0..60).map(|i| ((i * 37) % 17) as f64 / 16.0).collect();
        let errors: Vec<bool> = (0..60).map(|i| (i * 13) % 5 < 2).collect();
        let w: Vec<u32> = (0..60).map(|i| ((i * 11) % 4) as u32).collect();
        let (mut rs, mut re) = (Vec::new(), Vec::new());
        for i in 0..60 {
            for _ in 0..w[i] {
                rs.push(scores[i]);
                re.push(errors[i]);
            }
        }
        let ranking = Ranking::new(&scores).unwrap();
        let weighted = SelectiveMetrics::compute(&ranking, &errors, Some(&w)).unwrap();
        let repeated = SelectiveMetrics::of_scores(&rs, &re).unwrap();
        let d = |a: Option<f64>, b: Option<f64>| (a.unwrap() - b.unwrap()).abs();
        assert!(d(weighted.roc_auc, repeated.roc_auc) < 1e-14);
        assert!(d(weighted.prr, repeated.prr) < 1e-14);
        assert!((weighted.aurc - repeated.aurc).abs() < 1e-14);
        assert!((weighted.e_aurc - repeated.e_aurc).abs() < 1e-14);
    }
}
