//! Error ROC-AUC: how well an uncertainty score ranks errors above correct predictions.

use super::ranking::{Group, Ranking};

/// Mann-Whitney AUC of `scores` against binary `errors` (CONTRACT §5): the probability
/// that a random error scores higher than a random correct sample, ties counted one half.
///
/// Computed in f64 in O(N log N) by [`roc_auc_from_groups`]. Returns `None` (undefined) when
/// every sample is an error or none is, when the lengths differ, or when a score is NaN.
pub fn roc_auc(scores: &[f64], errors: &[bool]) -> Option<f64> {
    if scores.len() != errors.len() {
        return None;
    }
    let ranking = Ranking::new(scores)?;
    roc_auc_from_groups(ranking.groups(errors, None))
}

/// AUC from the runs of tied scores in ascending order:
/// `Σ_g e_g (c_<g + c_g / 2) / (E·C)`, where `e_g`, `c_g` are the errors and correct samples
/// of run `g`, `c_<g` the correct samples scored strictly lower, `E`, `C` the totals.
/// `None` when `E = 0` or `C = 0`.
pub fn roc_auc_from_groups(groups: impl Iterator<Item = Group>) -> Option<f64> {
    let (mut num, mut correct_below, mut n_err) = (0.0f64, 0.0f64, 0.0f64);
    for g in groups {
        let correct = g.total - g.errors;
        num += g.errors * (correct_below + correct / 2.0);
        correct_below += correct;
        n_err += g.errors;
    }
    if n_err == 0.0 || correct_below == 0.0 {
        return None;
    }
    Some(num / (n_err * correct_below))
}

/// Hanley–McNeil (1982) standard error of a ROC-AUC `a` estimated from `positives` and
/// `negatives` rows: `√((a(1−a) + (n₁−1)(Q₁−a²) + (n₀−1)(Q₂−a²)) / (n₁n₀))` with
/// `Q₁ = a/(2−a)`, `Q₂ = 2a²/(1+a)`. `None` without rows of both kinds.
///
/// Used before a fit to tell the user how noisy selection by validation ROC-AUC will be.
pub fn auc_standard_error(a: f64, positives: usize, negatives: usize) -> Option<f64> {
    if positives == 0 || negatives == 0 {
        return None;
    }
    let (n1, n0) = (positives as f64, negatives as f64);
    let q1 = a / (2.0 - a);
    let q2 = 2.0 * a * a / (1.0 + a);
    let var = (a * (1.0 - a) + (n1 - 1.0) * (q1 - a * a) + (n0 - 1.0) * (q2 - a * a)) / (n1 * n0);
    Some(var.max(0.0).sqrt())
}

#[cfg(test)]
mod tests {
    use super::{auc_standard_error, roc_auc};

    /// Brute-force pair count, the definition itself.
    fn pairs(scores: &[f64], errors: &[bool]) -> f64 {
        let (mut num, mut den) = (0.0, 0.0);
        for (i, &ei) in errors.iter().enumerate() {
            for (j, &ej) in errors.iter().enumerate() {
                if ei && !ej {
                    den += 1.0;
                    num += if scores[i] > scores[j] {
                        1.0
                    } else if scores[i] == scores[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        num / den
    }

    #[test]
    fn matches_pair_counting_with_ties() {
        let scores = [0.1, 0.4, 0.4, 0.35, 0.8, 0.1, 0.9, 0.4];
        let errors = [false, true, false, false, true, true, false, true];
        let auc = roc_auc(&scores, &errors).unwrap();
        assert!((auc - pairs(&scores, &errors)).abs() < 1e-12, "{auc}");
    }

    #[test]
    fn undefined_without_both_classes_or_with_nan() {
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(roc_auc(&[0.1, 0.2], &[false, false]), None);
        assert_eq!(roc_auc(&[f64::NAN, 0.2], &[true, false]), None);
        assert_eq!(roc_auc(&[0.1], &[true, false]), None);
    }

    #[test]
    fn perfect_and_reversed_rankings() {
        let e = [false, false, true, true];
        assert_eq!(roc_auc(&[0.1, 0.2, 0.3, 0.4], &e), Some(1.0));
        assert_eq!(roc_auc(&[0.4, 0.3, 0.2, 0.1], &e), Some(0.0));
        assert_eq!(roc_auc(&[0.5; 4], &e), Some(0.5));
    }

    #[test]
    fn hanley_mcneil_standard_error_matches_a_simulation() {
        // The formula is exact for exponentially distributed scores: negatives ~ Exp(1),
        // positives ~ Exp(1/4) give AUC = P(pos > neg) = 1/(1 + 1/4) = 0.8. The spread of the
        // AUC over 4000 simulated 50/50 samples must match it (Monte-Carlo error ≈ 1.1%).
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let mut exp = |mean: f64| -mean * (1.0 - rng.gen::<f64>()).ln();
        let errors: Vec<bool> = (0..100).map(|i| i < 50).collect();
        let aucs: Vec<f64> = (0..4000)
            .map(|_| {
                let s: Vec<f64> = errors
                    .iter()
                    .map(|&e| exp(if e { 4.0 } else { 1.0 }))
                    .collect();
                roc_auc(&s, &errors).unwrap()
            })
            .collect();
        let mean = aucs.iter().sum::<f64>() / aucs.len() as f64;
        let sd =
            (aucs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (aucs.len() - 1) as f64).sqrt();
        let se = auc_standard_error(0.8, 50, 50).unwrap();
        assert!((mean - 0.8).abs() < 0.003, "mean AUC {mean}");
        assert!(
            (sd / se - 1.0).abs() < 0.04,
            "simulated {sd} vs formula {se}"
        );
        assert_eq!(auc_standard_error(0.8, 0, 10), None);
    }
}
