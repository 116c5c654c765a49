//! Samples ranked by an uncertainty score, ties grouped: the common basis of the
//! ranking metrics (ROC-AUC, AURC, E-AURC, PRR).
//!
//! Sorting once and then walking the runs of tied scores with per-sample weights makes
//! every ranking metric O(N) per bootstrap resample: a resample with replacement is the
//! original sample with multiplicities, and the multiplicities do not change the order.

/// Samples sorted by ascending score (most trusted first), ties grouped.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// Sample indices in ascending score order (ties in index order).
    order: Vec<usize>,
    /// End offsets (exclusive) in `order` of each run of equal scores.
    ends: Vec<usize>,
}

/// The samples sharing one score value, counted with their weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Group {
    /// Weighted number of errors (`e = 1`).
    pub errors: f64,
    /// Weighted number of samples.
    pub total: f64,
}

impl Ranking {
    /// Ranks `scores`; `None` when a score is NaN (no order exists).
    pub fn new(scores: &[f64]) -> Option<Self> {
        if scores.iter().any(|s| s.is_nan()) {
            return None;
        }
        let mut order: Vec<usize> = (0..scores.len()).collect();
        // Stable sort: ties keep index order, so the ranking is deterministic.
        order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        let mut ends = Vec::new();
        for k in 1..order.len() {
            // `==` (not total_cmp) so that -0.0 and 0.0 tie, as they do numerically.
            if scores[order[k]] != scores[order[k - 1]] {
                ends.push(k);
            }
        }
        if !order.is_empty() {
            ends.push(order.len());
        }
        Some(Ranking { order, ends })
    }

    /// Number of ranked samples.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether no sample is ranked.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Number of distinct scores.
    pub fn num_groups(&self) -> usize {
        self.ends.len()
    }

    /// The runs of tied scores in ascending order, as the sample indices of each run.
    pub fn runs(&self) -> impl Iterator<Item = &[usize]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(s, &e)| &self.order[s..e])
    }

    /// The runs of tied scores in ascending order with their (weighted) error and sample
    /// counts. `weights[i]` is the multiplicity of sample `i` (all 1 when `None`); groups
    /// whose weight is zero are skipped, as they are absent from the resample.
    pub fn groups<'a>(
        &'a self,
        errors: &'a [bool],
        weights: Option<&'a [u32]>,
    ) -> impl Iterator<Item = Group> + 'a {
        let mut start = 0;
        self.ends.iter().filter_map(move |&end| {
            let (mut err, mut tot) = (0u64, 0u64);
            for &i in &self.order[start..end] {
                let w = weights.map_or(1, |w| u64::from(w[i]));
                tot += w;
                if errors[i] {
                    err += w;
                }
            }
            start = end;
            (tot > 0).then_some(Group {
                errors: err as f64,
                total: tot as f64,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_ties_and_applies_weights() {
        let r = Ranking::new(&[0.3, 0.1, 0.3, 0.2, -0.0, 0.0]).unwrap();
        assert_eq!(r.num_groups(), 4);
        let e = [true, false, false, true, true, false];
        let g: Vec<_> = r.groups(&e, None).collect();
        let as_pairs: Vec<(f64, f64)> = g.iter().map(|g| (g.errors, g.total)).collect();
        assert_eq!(
            as_pairs,
            vec![(1.0, 2.0), (0.0, 1.0), (1.0, 1.0), (1.0, 2.0)]
        );
        let w = [2, 0, 1, 0, 0, 3];
        let g: Vec<_> = r
            .groups(&e, Some(&w))
            .map(|g| (g.errors, g.total))
            .collect();
        assert_eq!(g, vec![(0.0, 3.0), (2.0, 3.0)]);
        let runs: Vec<&[usize]> = r.runs().collect();
        assert_eq!(runs, vec![&[4, 5][..], &[1], &[3], &[0, 2]]);
    }

    #[test]
    fn nan_has_no_ranking() {
        assert!(Ranking::new(&[0.1, f64::NAN]).is_none());
        assert!(Ranking::new(&[]).unwrap().is_empty());
    }
}
