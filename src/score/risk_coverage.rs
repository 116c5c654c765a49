//! Selective prediction: risk–coverage curve, AURC, E-AURC and PRR (CONTRACT §5).
//!
//! Samples are accepted in ascending order of uncertainty `u`; the selective risk `r_k` is
//! the error rate of the `k` most trusted samples. AURC is the **rectangle mean**
//! `(1/N) Σ_{k=1..N} r_k`, lm-polygraph's `RiskCoverageCurveAUC` (no trapezoid, no start
//! point: each row counts once). Tied scores have no order, so a run of tied rows
//! contributes the expectation of that sum over the orders within the run (`rect_tieavg`,
//! the analogue of ROC-AUC's "ties count ½"): a run of `g` rows with `m` errors, entered
//! after `k₀` rows and `E₀` errors, adds `Σ_{j=1..g} (E₀ + j·m/g)/(k₀ + j)`. Without ties
//! this is lm-polygraph's value exactly; with ties it is the mean of lm-polygraph's values
//! over all row orders.
//!
//! The oracle ranks every correct row before every error, one point per row (the discrete
//! oracle lm-polygraph uses): `AURC_oracle = (1/N) Σ_k max(0, k − C)/k`, `C` correct rows.
//! `E-AURC = AURC − AURC_oracle`, `PRR = (ē − AURC)/(ē − AURC_oracle)` with `ē` the error
//! rate (the exact expected AURC of a random order; lm-polygraph estimates it by 1000
//! shuffles).

use super::ranking::{Group, Ranking};
use super::roc_auc::roc_auc_from_groups;

/// The four ranking metrics of one score on one (re)sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SelectiveMetrics {
    /// Error ROC-AUC; `None` when there is no error or only errors.
    pub roc_auc: Option<f64>,
    /// Area under the risk–coverage curve (rectangle mean, ties averaged).
    pub aurc: f64,
    /// `AURC − AURC_oracle`.
    pub e_aurc: f64,
    /// Prediction rejection ratio `(ē − AURC) / (ē − AURC_oracle)`, `ē` the error rate
    /// (= the expected AURC of a random order); `None` when there is no error or only
    /// errors (0/0).
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

/// AURC (rectangle mean, ties averaged; see the module docs) from the runs of tied scores
/// in ascending order, with the (weighted) sample and error totals: `(AURC, N, E)`. A run's
/// weighted size `g` is a whole number (a sum of bootstrap multiplicities), so a resample is
/// the same sum over the repeated rows. `None` when there is no sample.
pub fn aurc_from_groups(groups: impl Iterator<Item = Group>) -> Option<(f64, f64, f64)> {
    let (mut sum, mut k, mut k_err) = (0.0f64, 0.0f64, 0.0f64);
    for g in groups {
        // Σ_{j=1..g} (E₀ + j·p)/(k₀ + j) with p = m/g, the expected risk after the j-th row of
        // the run over random orders within it, rewritten as
        // m + (E₀ − p·k₀)·Σ_{j=1..g} 1/(k₀ + j): the whole-number part m is added exactly, so
        // a single run (constant scores) gives AURC = E/N, bit-equal to the random order's ē.
        let per_row = g.errors / g.total;
        let mut harmonic = 0.0f64;
        let mut j = 1.0;
        while j <= g.total {
            harmonic += 1.0 / (k + j);
            j += 1.0;
        }
        sum += g.errors + (k_err - per_row * k) * harmonic;
        k += g.total;
        k_err += g.errors;
    }
    (k > 0.0).then(|| (sum / k, k, k_err))
}

/// AURC of the oracle that ranks every correct sample before every error, one point per
/// sample: `(1/N) Σ_{k=1..N} max(0, k − C)/k` with `C = N − E` correct samples.
pub fn oracle_aurc(n: f64, n_err: f64) -> f64 {
    let correct = n - n_err;
    // r_k = 0 for k ≤ C.
    let mut sum = 0.0f64;
    let mut k = correct + 1.0;
    while k <= n {
        sum += (k - correct) / k;
        k += 1.0;
    }
    if n > 0.0 {
        sum / n
    } else {
        0.0
    }
}

/// The risk–coverage curve of `scores` as `(coverage, risk)` points for plotting: the start
/// point `(0, r₁)` and one point per distinct score (AURC is the rectangle mean of the
/// per-row risks, not the area under these segments). Empty when a score is NaN or the
/// lengths differ.
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

    /// The definition, literally: (1/N) Σ_k r_k in the given order (no ties).
    fn aurc_in_order(errors: &[bool]) -> f64 {
        let mut k_err = 0.0;
        let mut sum = 0.0;
        for (k, &e) in errors.iter().enumerate() {
            k_err += f64::from(u8::from(e));
            sum += k_err / (k + 1) as f64;
        }
        sum / errors.len() as f64
    }

    /// Every permutation of `v` (Heap's algorithm).
    fn permutations(v: &mut Vec<usize>, k: usize, out: &mut Vec<Vec<usize>>) {
        if k <= 1 {
            out.push(v.clone());
            return;
        }
        for i in 0..k {
            permutations(v, k - 1, out);
            let j = if k.is_multiple_of(2) { i } else { 0 };
            v.swap(j, k - 1);
        }
    }

    #[test]
    fn aurc_with_ties_is_the_mean_over_orders_within_ties() {
        // Sorted: 0.1 (ok), then 0.2 (err, ok) tied, then 0.9 (err).
        // Orders of the tie: (err, ok) gives r = 0, 1/2, 1/3, 2/4; (ok, err) gives
        // r = 0, 0, 1/3, 2/4. Mean over the two: (1/4)(0 + 1/4 + 1/3 + 1/2).
        let s = [0.2, 0.1, 0.9, 0.2];
        let e = [true, false, true, false];
        let m = SelectiveMetrics::of_scores(&s, &e).unwrap();
        let expect = (0.25 + 1.0 / 3.0 + 0.5) / 4.0;
        assert!((m.aurc - expect).abs() < 1e-15, "{} vs {expect}", m.aurc);
        // The same as averaging the literal rectangle sum over all 24 row orders with
        // ties broken by position (lm-polygraph's stable sort).
        let mut all = Vec::new();
        permutations(&mut (0..4).collect(), 4, &mut all);
        let mean = all
            .iter()
            .map(|p| {
                let mut idx = p.clone();
                idx.sort_by(|&a, &b| s[a].total_cmp(&s[b]));
                aurc_in_order(&idx.iter().map(|&i| e[i]).collect::<Vec<_>>())
            })
            .sum::<f64>()
            / all.len() as f64;
        assert!((m.aurc - mean).abs() < 1e-15, "{} vs {mean}", m.aurc);
    }

    #[test]
    fn without_ties_aurc_is_the_rectangle_mean() {
        let s = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5];
        let e = [true, false, false, true, false, false];
        let m = SelectiveMetrics::of_scores(&s, &e).unwrap();
        // r = 1, 1/2, 1/3, 2/4, 2/5, 2/6: the most confident row counts once, not 1.5×.
        let expect = (1.0 + 0.5 + 1.0 / 3.0 + 0.5 + 0.4 + 1.0 / 3.0) / 6.0;
        assert!((m.aurc - expect).abs() < 1e-15, "{} vs {expect}", m.aurc);
        assert!((m.aurc - aurc_in_order(&e)).abs() < 1e-15);
    }

    #[test]
    fn oracle_matches_its_definition() {
        for (n, e) in [(10usize, 3usize), (7, 1), (5, 4), (1, 0), (4, 0), (3, 3)] {
            // The oracle is the rectangle mean of the order that puts every error last.
            let errors: Vec<bool> = (0..n).map(|i| i >= n - e).collect();
            let direct = aurc_in_order(&errors);
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
        // A constant score: every order of the rows is equally likely, so the expected
        // risk at every k is the error rate: AURC = 0.4, PRR = 0, AUC = ½.
        let m = SelectiveMetrics::of_scores(&[0.5; 5], &e).unwrap();
        assert!((m.aurc - 0.4).abs() < 1e-15);
        assert!(m.prr.unwrap().abs() < 1e-15);
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
