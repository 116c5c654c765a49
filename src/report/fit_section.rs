//! The `fit` section of `report.json`: the grid, the selected configuration, how it was
//! selected (`fit.selection`) and which split, if any, is left for calibration
//! (`fit.calibration`).

use serde::{Deserialize, Serialize};

use super::real::Real;

/// `fit.selection_metric` under hold-out selection: the error ROC-AUC on the selection split.
pub const METRIC_VAL_ROC_AUC: &str = "val_roc_auc";
/// `fit.selection_metric` under cross-validation: the mean over folds of the held-out-fold
/// error ROC-AUC.
pub const METRIC_CV_ROC_AUC: &str = "cv_mean_fold_roc_auc";

/// One configuration of the fit grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridEntry {
    /// Weight of the `(U − U_SR)²` term.
    pub alpha: Real,
    /// Weight of the L2-SP term.
    pub beta: Real,
    /// Peak (one-cycle) or constant (full-batch) learning rate.
    pub lr: Real,
    /// SmoothMax sharpness λ.
    pub lambda: Real,
    /// Scheduled epochs (one-cycle) or steps (full-batch).
    pub epochs: usize,
    /// `one_cycle` or `full_batch`.
    pub schedule: String,
    /// Checkpoint (epochs or steps trained) whose weights were kept / chosen.
    pub best_epoch: usize,
    /// The selection score there (see `fit.selection_metric`); `null` when undefined.
    pub val_roc_auc: Option<Real>,
    /// Training loss at the last pass; `null` when it diverged (not finite).
    pub final_train_loss: Option<Real>,
}

/// The selected configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selected {
    /// Index into `grid`.
    pub grid_index: usize,
    /// α.
    pub alpha: Real,
    /// β.
    pub beta: Real,
    /// Learning rate.
    pub lr: Real,
    /// Scheduled epochs (or steps).
    pub epochs: usize,
    /// `one_cycle` or `full_batch`.
    pub schedule: String,
    /// Checkpoint kept: the weights after this many epochs (or steps).
    pub best_epoch: usize,
    /// SmoothMax sharpness λ.
    pub lambda: Real,
    /// The selection score of the selection (see `fit.selection_metric`); selection-biased.
    pub val_roc_auc: Option<Real>,
}

/// The selection score of the chosen configuration, labelled for what it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectionScore {
    /// [`METRIC_VAL_ROC_AUC`] or [`METRIC_CV_ROC_AUC`].
    pub metric: String,
    /// Its value; `null` when undefined.
    pub value: Option<Real>,
    /// Always `true`: the maximum over the grid of a noisy score is optimistic (the
    /// configuration was chosen because it scored high on these rows).
    pub selection_biased: bool,
}

/// The folds of cross-validated selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvInfo {
    /// Folds per repeat.
    pub folds: usize,
    /// Repeats (seeded partitions).
    pub repeats: usize,
    /// Width of the moving average over checkpoints before the checkpoint was chosen.
    pub smoothing: usize,
    /// Held-out rows per fold, repeat by repeat.
    pub fold_rows: Vec<usize>,
    /// Errors among them.
    pub fold_errors: Vec<usize>,
    /// The selected configuration's held-out-fold error ROC-AUC at the chosen checkpoint.
    pub fold_roc_auc: Vec<Option<Real>>,
}

/// The refit of the chosen configuration after cross-validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefitInfo {
    /// Rows it trained on (all of the training split).
    pub rows: usize,
    /// Epochs (or full-batch steps) it trained: the chosen checkpoint.
    pub passes: usize,
}

/// `fit.selection`: how the configuration and its checkpoint were chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectionInfo {
    /// `cv` (stratified k-fold cross-validation on the training rows, then a refit on all of
    /// them) or `holdout` (early stopping and selection on a held-out split).
    pub method: String,
    /// Seed of the folds, the hold-out splits and the training runs.
    pub seed: u64,
    /// The split whose rows scored the configurations: `train` under cv; under hold-out the
    /// selection split as named in `methods` and `scores.safetensors`.
    pub split: String,
    /// Its rows.
    pub rows: usize,
    /// Errors among them.
    pub errors: usize,
    /// What any seeded split was stratified on: `error` (the error flag e), `label`, or
    /// `none` (a given file used whole).
    pub stratified_on: String,
    /// Folds (cv only).
    pub cv: Option<CvInfo>,
    /// The chosen configuration's selection score.
    pub score: SelectionScore,
    /// The refit (cv only).
    pub refit: Option<RefitInfo>,
    /// Splits under `methods` / `data` / `calibration` whose AdUE metrics are optimistic
    /// because their rows took part in fitting or selection; metrics of every other split
    /// are on rows AdUE never saw.
    pub biased_splits: Vec<String>,
}

/// `fit.calibration`: the split left for certifying a threshold (`export --target-risk`),
/// whose rows took no part in fitting or selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationInfo {
    /// Its name in `methods` and `scores.safetensors`.
    pub split: String,
    /// Its rows.
    pub rows: usize,
    /// Errors among them.
    pub errors: usize,
    /// Where it came from: `val` (the `--val` file, untouched under cv), `calib` (the
    /// `--calib` file) or `val-half` (the seeded calibration half of `--val` under hold-out).
    pub source: String,
}

/// `fit`: the grid search and its winner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitSection {
    /// The chosen configuration.
    pub selected: Selected,
    /// Every configuration tried, in grid order.
    pub grid: Vec<GridEntry>,
    /// What `val_roc_auc` in `selected` and `grid` is: [`METRIC_VAL_ROC_AUC`] or
    /// [`METRIC_CV_ROC_AUC`].
    pub selection_metric: String,
    /// How the selection was made.
    pub selection: SelectionInfo,
    /// The calibration split; `null` when every row took part in fitting or selection.
    pub calibration: Option<CalibrationInfo>,
    /// Caveats about the selection that the user should act on (for example a validation split
    /// too small to select on); absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}
