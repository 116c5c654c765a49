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

#[cfg(test)]
mod tests {
    use super::roc_auc;

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
}
