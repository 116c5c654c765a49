//! DeLong et al. (1988): the variance of an error ROC-AUC and of the difference of two AUCs
//! measured on the same rows, from the structural components of the Mann-Whitney statistic.
//!
//! For an error row `i`, `V10_i` is the fraction of correct rows it outranks (ties ½); for a
//! correct row `j`, `V01_j` is the fraction of errors that outrank it. The AUC is the mean
//! of either; `Var(AUC) = s²(V10)/n₁ + s²(V01)/n₀` (sample variances, `n₁` errors, `n₀`
//! correct rows). For two scores on the same rows, `Var(A − B)` is the same expression on
//! the per-row differences `V10_A − V10_B` and `V01_A − V01_B`, which carries their
//! correlation. Deterministic (no resampling), O(N log N).

use super::ranking::Ranking;

/// The structural components of one score, indexed by row.
#[derive(Debug, Clone, PartialEq)]
pub struct Components {
    /// Error ROC-AUC (ties ½).
    pub auc: f64,
    /// `V10` at error rows, `V01` at correct rows.
    per_row: Vec<f64>,
    errors: Vec<bool>,
    n_err: usize,
}

impl Components {
    /// The components of `scores` against `errors`; `None` for different lengths, a NaN
    /// score, or fewer than two errors or two correct rows (no variance).
    pub fn new(scores: &[f64], errors: &[bool]) -> Option<Self> {
        if scores.len() != errors.len() {
            return None;
        }
        let ranking = Ranking::new(scores)?;
        let n_err = errors.iter().filter(|&&e| e).count();
        let n_ok = errors.len() - n_err;
        if n_err < 2 || n_ok < 2 {
            return None;
        }
        let (n1, n0) = (n_err as f64, n_ok as f64);
        let mut per_row = vec![0.0; scores.len()];
        let (mut err_below, mut ok_below) = (0usize, 0usize);
        for run in ranking.runs() {
            let err_here = run.iter().filter(|&&i| errors[i]).count();
            let ok_here = run.len() - err_here;
            // An error outranks the correct rows below it and half of those tied with it;
            // a correct row is outranked by the errors above it and half of those tied.
            let v10 = (ok_below as f64 + ok_here as f64 / 2.0) / n0;
            let v01 = (n1 - err_below as f64 - err_here as f64 / 2.0) / n1;
            for &i in run {
                per_row[i] = if errors[i] { v10 } else { v01 };
            }
            err_below += err_here;
            ok_below += ok_here;
        }
        let auc = mean(
            per_row
                .iter()
                .zip(errors)
                .filter(|(_, &e)| e)
                .map(|(v, _)| *v),
        );
        Some(Components {
            auc,
            per_row,
            errors: errors.to_vec(),
            n_err,
        })
    }

    /// `Var(AUC) = s²(V10)/n₁ + s²(V01)/n₀`.
    pub fn variance(&self) -> f64 {
        variance_of(self.per_row.iter().copied(), &self.errors, self.n_err)
    }
}

/// `(A − B, SE(A − B))` for two scores on the same rows with the same error flags, by
/// DeLong's paired variance; `None` when the components were computed on different rows.
pub fn paired_difference(a: &Components, b: &Components) -> Option<(f64, f64)> {
    if a.errors != b.errors {
        return None;
    }
    let diff = a.per_row.iter().zip(&b.per_row).map(|(x, y)| x - y);
    let var = variance_of(diff, &a.errors, a.n_err);
    Some((a.auc - b.auc, var.max(0.0).sqrt()))
}

/// `s²(x over errors)/n₁ + s²(x over correct rows)/n₀`, sample variances (ddof 1).
fn variance_of(x: impl Iterator<Item = f64> + Clone, errors: &[bool], n_err: usize) -> f64 {
    let n_ok = errors.len() - n_err;
    let part = |want: bool, n: usize| {
        let vals = x.clone().zip(errors).filter(move |(_, &e)| e == want);
        let m = mean(vals.clone().map(|(v, _)| v));
        let ss: f64 = vals.map(|(v, _)| (v - m) * (v - m)).sum();
        ss / (n as f64 - 1.0) / n as f64
    };
    part(true, n_err) + part(false, n_ok)
}

fn mean(x: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = x.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    s / n.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::roc_auc;

    #[test]
    fn components_by_hand() {
        // errors at scores 0.9, 0.4 (tied with a correct row), correct at 0.1, 0.4, 0.2.
        let s = [0.9, 0.4, 0.1, 0.4, 0.2];
        let e = [true, true, false, false, false];
        let c = Components::new(&s, &e).unwrap();
        // V10: 0.9 outranks 3/3; 0.4 outranks 0.1, 0.2 and half of 0.4: 2.5/3.
        // V01: 0.1 and 0.2 are outranked by both errors: 1; 0.4 by 0.9 and half of 0.4: 0.75.
        assert_eq!(c.per_row, vec![1.0, 2.5 / 3.0, 1.0, 0.75, 1.0]);
        assert!((c.auc - roc_auc(&s, &e).unwrap()).abs() < 1e-15);
        // s²(V10) = (1 − 5/6)²/2 = 1/72 over n₁ = 2; s²(V01) = var(1, .75, 1) = 1/48 over 3.
        let want = (1.0 / 72.0) / 2.0 + (1.0 / 48.0) / 3.0;
        assert!((c.variance() - want).abs() < 1e-15, "{}", c.variance());
    }

    #[test]
    fn identical_scores_have_no_difference_and_no_variance() {
        let s: Vec<f64> = (0..50).map(|i| ((i * 31) % 17) as f64).collect();
        let e: Vec<bool> = (0..50).map(|i| i % 4 == 0).collect();
        let c = Components::new(&s, &e).unwrap();
        assert_eq!(paired_difference(&c, &c), Some((0.0, 0.0)));
        // Different error flags are not the same rows.
        let mut e2 = e.clone();
        e2[1] = true;
        let c2 = Components::new(&s, &e2).unwrap();
        assert_eq!(paired_difference(&c, &c2), None);
        assert!(Components::new(&[0.1, 0.2, 0.3], &[true, false, false]).is_none());
    }

    #[test]
    fn variance_matches_a_simulation() {
        // Errors score N(μ, 1), correct rows N(0, 1); 60 errors and 340 correct rows. The
        // mean DeLong variance over draws must match the variance of the AUC across draws;
        // the paired SE of two correlated scores must match the spread of their difference.
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let mut normal = move || {
            let (u1, u2): (f64, f64) = (rng.gen::<f64>().max(1e-300), rng.gen());
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        };
        let e: Vec<bool> = (0..400).map(|i| i < 60).collect();
        let (mut aucs, mut vars, mut diffs, mut dvars) = (vec![], vec![], vec![], vec![]);
        for _ in 0..1500 {
            let z: Vec<f64> = (0..400).map(|_| normal()).collect();
            let a: Vec<f64> = e
                .iter()
                .zip(&z)
                .map(|(&e, z)| 1.6 * f64::from(u8::from(e)) + z)
                .collect();
            let b: Vec<f64> = e
                .iter()
                .zip(&z)
                .map(|(&e, z)| 1.4 * f64::from(u8::from(e)) + 0.9 * z + 0.436 * normal())
                .collect();
            let (ca, cb) = (
                Components::new(&a, &e).unwrap(),
                Components::new(&b, &e).unwrap(),
            );
            aucs.push(ca.auc);
            vars.push(ca.variance());
            let (d, se) = paired_difference(&ca, &cb).unwrap();
            diffs.push(d);
            dvars.push(se * se);
        }
        let var = |x: &[f64]| {
            let m = x.iter().sum::<f64>() / x.len() as f64;
            x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64
        };
        let avg = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
        // 1500 draws: the sample variance is within ~4% (1 sd) of the truth.
        let r = avg(&vars) / var(&aucs);
        assert!(
            (r - 1.0).abs() < 0.12,
            "AUC: DeLong {} vs simulated {}",
            avg(&vars),
            var(&aucs)
        );
        let r = avg(&dvars) / var(&diffs);
        assert!(
            (r - 1.0).abs() < 0.12,
            "difference: DeLong {} vs simulated {}",
            avg(&dvars),
            var(&diffs)
        );
    }
}
