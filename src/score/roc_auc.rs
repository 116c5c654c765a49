//! Error ROC-AUC: how well an uncertainty score ranks errors above correct predictions.

/// Mann-Whitney AUC of `scores` against binary `errors` (CONTRACT §5): the probability
/// that a random error scores higher than a random correct sample, ties counted one half.
///
/// Computed in f64 in O(N log N) from mid-ranks: `AUC = (R₁ − n₁(n₁+1)/2) / (n₁ n₀)`, where
/// `R₁` is the rank sum of the errors. Returns `None` (undefined) when every sample is an
/// error or none is, when the lengths differ, or when a score is NaN.
pub fn roc_auc(scores: &[f64], errors: &[bool]) -> Option<f64> {
    if scores.len() != errors.len() || scores.iter().any(|s| s.is_nan()) {
        return None;
    }
    let n1 = errors.iter().filter(|&&e| e).count();
    let n0 = errors.len() - n1;
    if n1 == 0 || n0 == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0f64;
    let mut i = 0;
    while i < order.len() {
        // A run of tied scores shares the mean of ranks i+1 ..= j.
        let mut j = i + 1;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            j += 1;
        }
        let mid_rank = (i + 1 + j) as f64 / 2.0;
        let tied_errors = order[i..j].iter().filter(|&&k| errors[k]).count();
        rank_sum += mid_rank * tied_errors as f64;
        i = j;
    }
    let (n1, n0) = (n1 as f64, n0 as f64);
    Some((rank_sum - n1 * (n1 + 1.0) / 2.0) / (n1 * n0))
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
    }

    #[test]
    fn perfect_and_reversed_rankings() {
        let e = [false, false, true, true];
        assert_eq!(roc_auc(&[0.1, 0.2, 0.3, 0.4], &e), Some(1.0));
        assert_eq!(roc_auc(&[0.4, 0.3, 0.2, 0.1], &e), Some(0.0));
    }
}
