//! Which rows do what in a `fit` run: the rows AdUE is fitted on, the rows that select the
//! configuration, the rows left untouched (one of them the calibration split) and their
//! names in the report and in `scores.safetensors`.
//!
//! | selection | `--val` | `--calib` | fitted on | selects | calibration split |
//! |---|---|---|---|---|---|
//! | cv | yes | – | `train` | `train` (folds) | `val` (source `val`) |
//! | cv | any | yes | `train` | `train` (folds) | `calib` (source `calib`) |
//! | cv | – | – | `train` | `train` (folds) | none |
//! | holdout | yes | yes | `train` | `val` | `calib` |
//! | holdout | yes | – | `train` | `val_select` (half of `--val`) | `val_calib` (source `val-half`) |
//! | holdout | – | yes | 80% of `--train` | `val` (20% of `--train`) | `calib` |
//! | holdout | – | – | 80% of `--train` | `val` (20% of `--train`) | none |

use anyhow::Context;

use super::split::{error_flags, Split};
use crate::fit::stratified_holdout;
use crate::settings::{FitSettings, Selection};

/// Fraction of `--train` held out for hold-out selection when no `--val` is given
/// (CONTRACT §3).
pub const HOLDOUT_FRACTION: f64 = 0.2;

/// Added to the seed for the split of `--val` into selection and calibration halves, so
/// that it is not the same shuffle as the hold-out of `--train`.
const VAL_HALF_SEED_OFFSET: u64 = 0x5EED_0CA1;

/// The roles of the rows of a run.
pub(super) struct Plan {
    /// The rows AdUE is trained on (`train`).
    pub fit: Split,
    /// Hold-out selection: the split that selects (and stops early); `None` under cv.
    pub select: Option<Split>,
    /// Splits AdUE never sees in fitting or selection (besides `test`): `val` under cv,
    /// `calib`, `val_calib`.
    pub untouched: Vec<Split>,
    /// The calibration split's name and source (`val`, `calib`, `val-half`), if any.
    pub calibration: Option<(&'static str, &'static str)>,
    /// What any seeded split of the selection rows was stratified on.
    pub stratified_on: &'static str,
    /// How the selection rows are described in errors about them.
    pub select_file: String,
}

impl Plan {
    /// Assigns roles to the splits read for `args`.
    pub fn new(
        args: &FitSettings,
        train: Split,
        val: Option<Split>,
        calib: Option<Split>,
    ) -> anyhow::Result<Plan> {
        let train_file = args.train.display().to_string();
        let val_file = args.val.as_ref().map(|v| v.display().to_string());
        let calib_source = calib.as_ref().map(|_| ("calib", "calib"));
        match args.selection {
            Selection::CrossValidation { .. } => {
                let calibration = calib_source.or(val.as_ref().map(|_| ("val", "val")));
                Ok(Plan {
                    fit: train,
                    select: None,
                    untouched: val.into_iter().chain(calib).collect(),
                    calibration,
                    stratified_on: "error",
                    select_file: train_file,
                })
            }
            Selection::Holdout => match (val, calib) {
                (Some(val), Some(calib)) => Ok(Plan {
                    fit: train,
                    select: Some(val),
                    untouched: vec![calib],
                    calibration: calib_source,
                    stratified_on: "none",
                    select_file: val_file.unwrap_or_default(),
                }),
                (Some(val), None) => {
                    let e = error_flags(&val);
                    let seed = args.seed.wrapping_add(VAL_HALF_SEED_OFFSET);
                    let (sel, cal) =
                        stratified_holdout(e.view(), 0.5, seed).with_context(|| {
                            format!(
                                "{}: splitting --val into selection and calibration halves \
                             (stratified on the error flag: class 1 = the original head is \
                             wrong; pass --calib FILE instead)",
                                val_file.clone().unwrap_or_default()
                            )
                        })?;
                    let (select, calib) = val.split("val_select", &sel, "val_calib", &cal);
                    Ok(Plan {
                        fit: train,
                        select: Some(select),
                        untouched: vec![calib],
                        calibration: Some(("val_calib", "val-half")),
                        stratified_on: "error",
                        select_file: format!("{} (selection half)", val_file.unwrap_or_default()),
                    })
                }
                (None, calib) => {
                    let (tr, va) =
                        stratified_holdout(train.labels.view(), HOLDOUT_FRACTION, args.seed)
                            .with_context(|| {
                                format!(
                                    "{train_file}: holding out {}% of the training rows for \
                                     selection (no --val; pass --val FILE instead)",
                                    HOLDOUT_FRACTION * 100.0
                                )
                            })?;
                    let (fit, select) = train.hold_out(&tr, &va);
                    Ok(Plan {
                        fit,
                        select: Some(select),
                        untouched: calib.into_iter().collect(),
                        calibration: calib_source,
                        stratified_on: "label",
                        select_file: format!("{train_file} (held-out part)"),
                    })
                }
            },
        }
    }

    /// The split whose rows scored the configurations.
    pub fn selection_split(&self) -> &Split {
        self.select.as_ref().unwrap_or(&self.fit)
    }
}
