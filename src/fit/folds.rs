//! Seeded k-fold partitions stratified on the error flag `e`, for cross-validated selection.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::FitError;

/// Most folds (and most repeats) a cross-validation may use.
pub const MAX_FOLDS: usize = 50;

/// The `k` folds of repeat `repeat` (0-based): the rows of each stratum of `errors` (errors
/// first, then correct rows) are shuffled with a seeded generator and dealt round-robin to
/// the folds, the count continuing from one stratum to the next, so every fold holds
/// `⌊n_e/k⌋` or `⌈n_e/k⌉` errors and fold sizes differ by at most one. Each fold is ascending.
///
/// The generator is `seed`'s xoshiro256++ advanced by `2 + repeat` long jumps, so it shares no
/// stretch of its stream with the training runs (which use the first two). Errors when
/// `k < 2`, `k >` [`MAX_FOLDS`], or some fold would hold no error or no correct row.
pub fn stratified_folds(
    errors: &[bool],
    k: usize,
    seed: u64,
    repeat: usize,
) -> Result<Vec<Vec<usize>>, FitError> {
    if !(2..=MAX_FOLDS).contains(&k) {
        return Err(FitError::InvalidParam {
            name: "folds",
            value: k.to_string(),
            expected: "an integer in 2..=50",
        });
    }
    let (err, ok): (Vec<usize>, Vec<usize>) = (0..errors.len()).partition(|&i| errors[i]);
    let fewest = err.len().min(ok.len());
    if fewest < k {
        return Err(FitError::CrossValidation {
            reason: format!(
                "{} rows hold {} errors and {} correct rows; {k} folds need at least {k} of \
                 each (every held-out fold needs both to score an error ROC-AUC); use fewer \
                 --folds or --selection holdout",
                errors.len(),
                err.len(),
                ok.len()
            ),
        });
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    for _ in 0..2 + repeat {
        rng.long_jump();
    }
    let mut folds = vec![Vec::with_capacity(errors.len() / k + 1); k];
    let mut next = 0;
    for mut stratum in [err, ok] {
        stratum.shuffle(&mut rng);
        for row in stratum {
            folds[next].push(row);
            next = (next + 1) % k;
        }
    }
    for f in &mut folds {
        f.sort_unstable();
    }
    Ok(folds)
}

/// The rows of `0..n` outside `fold` (ascending; `fold` ascending).
pub fn complement(n: usize, fold: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(n - fold.len().min(n));
    let mut held = fold.iter().peekable();
    for i in 0..n {
        if held.peek() == Some(&&i) {
            held.next();
        } else {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(n: usize, every: usize) -> Vec<bool> {
        (0..n).map(|i| i % every == 0).collect()
    }

    #[test]
    fn folds_partition_the_rows_and_are_stratified_on_e() {
        let e = flags(103, 7); // 15 errors, 88 correct
        let folds = stratified_folds(&e, 5, 3, 0).unwrap();
        let mut all: Vec<usize> = folds.concat();
        all.sort_unstable();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
        for f in &folds {
            assert!(f.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(f.iter().filter(|&&i| e[i]).count(), 3);
            assert!((20..=21).contains(&f.len()), "{}", f.len());
        }
        // Seeded: the same seed and repeat give the same folds; another does not.
        assert_eq!(stratified_folds(&e, 5, 3, 0).unwrap(), folds);
        assert_ne!(stratified_folds(&e, 5, 4, 0).unwrap(), folds);
        assert_ne!(stratified_folds(&e, 5, 3, 1).unwrap(), folds);
    }

    #[test]
    fn complement_is_the_rest() {
        assert_eq!(complement(6, &[1, 4]), vec![0, 2, 3, 5]);
        assert_eq!(complement(3, &[]), vec![0, 1, 2]);
        assert_eq!(complement(2, &[0, 1]), Vec::<usize>::new());
    }

    #[test]
    fn refuses_too_few_errors_or_bad_k() {
        let e = flags(40, 10); // 4 errors
        let msg = stratified_folds(&e, 5, 0, 0).unwrap_err().to_string();
        assert!(msg.contains("4 errors") && msg.contains("5 folds"), "{msg}");
        assert!(stratified_folds(&e, 4, 0, 0).is_ok());
        for k in [0, 1, MAX_FOLDS + 1] {
            let msg = stratified_folds(&e, k, 0, 0).unwrap_err().to_string();
            assert!(msg.contains("folds"), "{msg}");
        }
    }
}
