//! What [`fit`](super::fit) and [`fit_cv`](super::fit_cv) return: the selected head, the
//! score of every configuration and how the selection was made.

use serde::Serialize;

use super::grid::Config;
use crate::head::UeHead;

/// One trained grid configuration and how it scored (`fit.grid[]` in report.json).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridResult {
    /// The configuration (α, β, lr, λ, epochs or steps, schedule).
    #[serde(flatten)]
    pub config: Config,
    /// Checkpoint (epochs or steps trained, ≥ 1) whose weights are kept: the best by the
    /// selection score; 0 if no checkpoint had a defined one.
    pub best_epoch: usize,
    /// The selection score at `best_epoch`: under hold-out selection the validation error
    /// ROC-AUC of the kept weights, computed exactly as
    /// [`UeHead::uncertainty`](crate::head::UeHead::uncertainty) does (the scorer reproduces
    /// it from the written head); under cross-validation the mean over folds of the
    /// held-out-fold error ROC-AUC. `None` when undefined (the run diverged).
    pub val_roc_auc: Option<f64>,
    /// Loss (all three terms, dropout on) of the last pass trained; under cross-validation
    /// the mean over folds.
    pub final_train_loss: f64,
}

impl GridResult {
    /// The result of configuration `cfg`.
    pub fn new(
        cfg: &Config,
        best_epoch: usize,
        val_roc_auc: Option<f64>,
        final_train_loss: f64,
    ) -> Self {
        GridResult {
            config: *cfg,
            best_epoch,
            val_roc_auc,
            final_train_loss,
        }
    }
}

/// How cross-validated selection went ([`fit_cv`](super::fit_cv)).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CvRecord {
    /// Folds per repeat.
    pub folds: usize,
    /// Repeats (each a new seeded partition).
    pub repeats: usize,
    /// Width of the moving average over checkpoints that chose the checkpoint (1: none).
    pub smoothing: usize,
    /// Held-out rows of every fold, repeat by repeat.
    pub fold_rows: Vec<usize>,
    /// Errors among them.
    pub fold_errors: Vec<usize>,
    /// The selected configuration's held-out error ROC-AUC at the selected checkpoint, per
    /// fold (their mean is the selection score).
    pub fold_roc_auc: Vec<Option<f64>>,
    /// Rows of the refit (all training rows).
    pub refit_rows: usize,
    /// Per configuration (grid order), the mean held-out-fold ROC-AUC at each of its
    /// checkpoints ([`Config::checkpoints`]).
    pub mean_curves: Vec<Vec<Option<f64>>>,
    /// Per configuration and fold, the held-out-fold ROC-AUC at each checkpoint.
    pub fold_curves: Vec<Vec<Vec<Option<f64>>>>,
}

/// The result of [`fit`](super::fit) or [`fit_cv`](super::fit_cv).
#[derive(Debug, Clone)]
pub struct FitOutcome {
    /// The fitted UE head `g` (weights of the selected configuration at its selected
    /// checkpoint; under cross-validation, refitted on all training rows) with λ, scale and
    /// eps of its uncertainty.
    pub ue: UeHead,
    /// The winning configuration: highest selection score, the first in grid order on ties.
    pub selected: GridResult,
    /// Its position in `grid`.
    pub selected_index: usize,
    /// Every configuration in [`Grid::configurations`](super::Grid::configurations) order.
    pub grid: Vec<GridResult>,
    /// Cross-validation details; `None` for hold-out selection.
    pub cv: Option<CvRecord>,
}
