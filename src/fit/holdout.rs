//! A seeded, label-stratified hold-out split, used for selection when no validation file is
//! given (CONTRACT §3).

use std::collections::BTreeMap;

use ndarray::ArrayView1;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::FitError;

/// Fewest validation rows for which a selection by ROC-AUC is worth attempting.
pub const MIN_VAL_ROWS: usize = 10;

/// Splits row indices into `(train, val)`: from every class, `round(fraction · n_c)` rows
/// (at least 1, at most `n_c − 1`) chosen by a seeded shuffle go to validation. Both lists
/// are ascending.
///
/// Errors when `fraction` is not in `(0, 1)`, when a class has fewer than 2 rows (it cannot
/// be on both sides), or when fewer than [`MIN_VAL_ROWS`] rows would be held out.
pub fn stratified_holdout(
    labels: ArrayView1<usize>,
    fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>), FitError> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(FitError::InvalidParam {
            name: "fraction",
            value: fraction.to_string(),
            expected: "a fraction in (0, 1)",
        });
    }
    let mut classes: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &label) in labels.iter().enumerate() {
        classes.entry(label).or_default().push(i);
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for (label, mut rows) in classes {
        let n = rows.len();
        if n < 2 {
            return Err(FitError::Holdout {
                reason: format!(
                    "class {label} has {n} row; every class needs at least 2 (one on each side \
                     of the split)"
                ),
            });
        }
        let k = ((fraction * n as f64).round() as usize).clamp(1, n - 1);
        rows.shuffle(&mut rng);
        val.extend_from_slice(&rows[..k]);
        train.extend_from_slice(&rows[k..]);
    }
    if val.len() < MIN_VAL_ROWS {
        return Err(FitError::Holdout {
            reason: format!(
                "{} of {} rows would be held out, fewer than the {MIN_VAL_ROWS} needed to select \
                 by ROC-AUC",
                val.len(),
                labels.len()
            ),
        });
    }
    train.sort_unstable();
    val.sort_unstable();
    Ok((train, val))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    #[test]
    fn stratifies_each_class_and_partitions_the_rows() {
        let labels: Array1<usize> = (0..100).map(|i| if i % 4 == 0 { 1 } else { 0 }).collect();
        let (train, val) = stratified_holdout(labels.view(), 0.2, 9).unwrap();
        assert_eq!(train.len() + val.len(), 100);
        let mut all: Vec<usize> = train.iter().chain(&val).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        // 75 of class 0 and 25 of class 1: round(15) and round(5).
        assert_eq!(val.iter().filter(|&&i| labels[i] == 0).count(), 15);
        assert_eq!(val.iter().filter(|&&i| labels[i] == 1).count(), 5);
        assert!(val.windows(2).all(|w| w[0] < w[1]));
        // Seeded: same seed, same split; another seed, another split.
        assert_eq!(stratified_holdout(labels.view(), 0.2, 9).unwrap().1, val);
        assert_ne!(stratified_holdout(labels.view(), 0.2, 10).unwrap().1, val);
    }

    #[test]
    fn refuses_what_cannot_be_split() {
        let one_row_class: Array1<usize> = (0..60).map(|i| usize::from(i == 0)).collect();
        let e = stratified_holdout(one_row_class.view(), 0.2, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("class 1 has 1 row"), "{e}");
        let small: Array1<usize> = (0..20).map(|i| i % 2).collect();
        let e = stratified_holdout(small.view(), 0.2, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("4 of 20 rows"), "{e}");
        let e = stratified_holdout(small.view(), 1.0, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("fraction"), "{e}");
    }
}
