//! The regression gate of `validate --baseline`: a one-sided non-inferiority test of the
//! new run's error ROC-AUC against the old run's, on the test split.
//!
//! `D = AUC_old − AUC_new` (a drop is positive). With both runs scored on the same rows
//! (same file, same labels, same error flags), `SE(D)` is DeLong's paired standard error
//! ([`crate::score::delong`]), which carries the correlation of the two scores; on different
//! rows, the two runs are independent samples and `SE² = SE_old² + SE_new²`. The gate
//! **fails when `D + z₀.₉₅·SE > m`**: the one-sided 95% upper bound of the drop exceeds the
//! margin `m`. A model whose true drop is `m` passes at most 5% of the time (up to the
//! normal approximation). A model with no true drop fails more than 5% of the time unless
//! `m ≥ 2·z₀.₉₅·SE ≈ 3.29·SE` (the break-even margin): on a few hundred rows only nearly
//! identical models (a deterministic refit, numerical changes) can be shown non-inferior
//! at 0.01; measured in `benches/stats_gate.rs`.

use crate::score::delong::{paired_difference, Components};

/// `Φ⁻¹(0.95)`.
pub const Z95: f64 = 1.644_853_626_951_472_2;

/// One run's uncertainty and error flags on its test rows.
#[derive(Debug, Clone, Copy)]
pub struct RunScores<'a> {
    /// `U` per row.
    pub uncertainty: &'a [f64],
    /// Whether the original head is wrong on the row.
    pub errors: &'a [bool],
}

/// How the two runs' AUCs were compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    /// The same rows: DeLong's paired variance.
    Paired,
    /// Different rows: independent variances added.
    Unpaired,
}

/// The gate's numbers and verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateResult {
    /// The old run's error ROC-AUC.
    pub auc_old: f64,
    /// The new run's.
    pub auc_new: f64,
    /// `D = AUC_old − AUC_new`.
    pub drop: f64,
    /// Standard error of `D`.
    pub se: f64,
    /// `D + z₀.₉₅·SE`: the one-sided 95% upper bound of the drop.
    pub bound: f64,
    /// The margin `m`.
    pub margin: f64,
    /// `2·z₀.₉₅·SE`: below this margin a model with no true drop fails more than 5% of the time.
    pub break_even: f64,
    /// Paired or not.
    pub pairing: Pairing,
    /// `bound ≤ margin`.
    pub passed: bool,
}

/// Why the gate cannot be evaluated (bad input, exit 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GateError {
    /// The margin is not in (0, 1).
    #[error("--margin must be in (0, 1), got {0}")]
    Margin(f64),
    /// A run's AUC or its variance is undefined.
    #[error(
        "the {run} run's test split needs at least 2 errors and 2 correct rows and finite \
         scores for an error ROC-AUC with a standard error ({rows} rows, {errors} errors)"
    )]
    Undefined {
        /// `old` or `new`.
        run: &'static str,
        /// Rows.
        rows: usize,
        /// Errors among them.
        errors: usize,
    },
    /// Paired comparison asked for on rows that differ.
    #[error("paired comparison needs the same rows and error flags in both runs")]
    NotPaired,
}

/// The non-inferiority test of `new` against `old` at `margin` (module docs); `paired` when
/// the caller has verified that both runs scored the same rows.
pub fn non_inferiority(
    old: RunScores,
    new: RunScores,
    paired: bool,
    margin: f64,
) -> Result<GateResult, GateError> {
    if !(margin > 0.0 && margin < 1.0) {
        return Err(GateError::Margin(margin));
    }
    let components = |run: &'static str, r: RunScores| {
        Components::new(r.uncertainty, r.errors).ok_or(GateError::Undefined {
            run,
            rows: r.errors.len(),
            errors: r.errors.iter().filter(|&&e| e).count(),
        })
    };
    let (a, b) = (components("old", old)?, components("new", new)?);
    let (drop, se, pairing) = if paired {
        let (d, se) = paired_difference(&a, &b).ok_or(GateError::NotPaired)?;
        (d, se, Pairing::Paired)
    } else {
        let se = (a.variance() + b.variance()).max(0.0).sqrt();
        (a.auc - b.auc, se, Pairing::Unpaired)
    };
    let bound = drop + Z95 * se;
    Ok(GateResult {
        auc_old: a.auc,
        auc_new: b.auc,
        drop,
        se,
        bound,
        margin,
        break_even: 2.0 * Z95 * se,
        pairing,
        passed: bound <= margin,
    })
}

impl GateResult {
    /// One line: the comparison, `D`, `SE`, the bound against the margin, the break-even
    /// margin, and a note when the margin is below it.
    pub fn describe(&self, rows: &str) -> String {
        let how = match self.pairing {
            Pairing::Paired => "paired DeLong",
            Pairing::Unpaired => "unpaired DeLong (SE² = SE_old² + SE_new²)",
        };
        let mut s = format!(
            "{how} on {rows}: AUC old {:.4}, new {:.4}; drop D = {:+.4}, SE {:.4}; \
             one-sided 95% bound D + 1.645·SE = {:+.4} {} margin {}; break-even margin \
             3.29·SE = {:.4}",
            self.auc_old,
            self.auc_new,
            self.drop,
            self.se,
            self.bound,
            if self.passed { "<=" } else { ">" },
            self.margin,
            self.break_even
        );
        if self.break_even > self.margin {
            s.push_str(&format!(
                " (at this margin a model with no true drop fails more than 5% of the time: \
                 these rows can show non-inferiority only at margins >= {:.4})",
                self.break_even
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<'a>(u: &'a [f64], e: &'a [bool]) -> RunScores<'a> {
        RunScores {
            uncertainty: u,
            errors: e,
        }
    }

    #[test]
    fn identical_runs_pass_with_zero_se() {
        let u: Vec<f64> = (0..40).map(|i| ((i * 7) % 13) as f64).collect();
        let e: Vec<bool> = (0..40).map(|i| i % 5 == 0).collect();
        let g = non_inferiority(run(&u, &e), run(&u, &e), true, 0.01).unwrap();
        assert_eq!((g.drop, g.se, g.passed), (0.0, 0.0, true));
        assert_eq!(g.pairing, Pairing::Paired);
    }

    #[test]
    fn a_clear_drop_fails_and_the_bound_is_d_plus_z_se() {
        // The new score ranks two errors below every correct row.
        let e: Vec<bool> = (0..60).map(|i| i % 6 == 0).collect();
        let old: Vec<f64> = (0..60)
            .map(|i| {
                if e[i] {
                    1.0 + i as f64
                } else {
                    i as f64 / 100.0
                }
            })
            .collect();
        let mut new = old.clone();
        new[0] = -1.0;
        new[6] = -2.0;
        let g = non_inferiority(run(&old, &e), run(&new, &e), true, 0.01).unwrap();
        assert!((g.auc_old - 1.0).abs() < 1e-15 && (g.auc_new - 0.8).abs() < 1e-15);
        assert!((g.drop - 0.2).abs() < 1e-15);
        assert!((g.bound - (g.drop + Z95 * g.se)).abs() < 1e-15);
        assert!(!g.passed);
        assert!(g
            .describe("60 shared rows")
            .contains("paired DeLong on 60 shared rows"));
        // Unpaired: the two runs' variances add.
        let u = non_inferiority(run(&old, &e), run(&new, &e), false, 0.01).unwrap();
        assert_eq!(u.pairing, Pairing::Unpaired);
        assert!(u.describe("x").starts_with("unpaired"));
    }

    #[test]
    fn bad_inputs_are_errors() {
        let u = [0.1, 0.2, 0.3, 0.4];
        let e = [true, false, false, false];
        let ok = [true, true, false, false];
        assert_eq!(
            non_inferiority(run(&u, &ok), run(&u, &ok), true, 0.0).unwrap_err(),
            GateError::Margin(0.0)
        );
        assert!(matches!(
            non_inferiority(run(&u, &e), run(&u, &ok), false, 0.01),
            Err(GateError::Undefined { run: "old", .. })
        ));
        assert_eq!(
            non_inferiority(
                run(&u, &ok),
                run(&u, &[false, true, true, false]),
                true,
                0.01
            )
            .unwrap_err(),
            GateError::NotPaired
        );
    }
}
