//! What [`fit`](super::fit) returns: the selected head and the score of every configuration.

use serde::Serialize;

use crate::head::UeHead;

/// One trained grid configuration and how it scored (`fit.grid[]` in report.json).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridResult {
    /// α.
    pub alpha: f64,
    /// β.
    pub beta: f64,
    /// Peak learning rate.
    pub lr: f64,
    /// Scheduled epochs.
    pub epochs: usize,
    /// Epoch (1-based) whose weights were kept by early stopping, the best by the per-epoch
    /// validation ROC-AUC (computed with the training kernels); 0 if no epoch had a defined
    /// one.
    pub best_epoch: usize,
    /// Validation error ROC-AUC of the kept weights, computed exactly as
    /// [`UeHead::uncertainty`](crate::head::UeHead::uncertainty) does, so the scorer reproduces it from the written head; `None`
    /// when undefined (the run diverged).
    pub val_roc_auc: Option<f64>,
    /// Mean mini-batch loss (all three terms, dropout on) of the last epoch trained.
    pub final_train_loss: f64,
}

/// The result of [`fit`](super::fit).
#[derive(Debug, Clone)]
pub struct FitOutcome {
    /// The fitted UE head `g` (weights of the selected configuration at its best epoch)
    /// with λ, scale and eps of its uncertainty.
    pub ue: UeHead,
    /// The winning configuration: highest validation ROC-AUC, the first in grid order on ties.
    pub selected: GridResult,
    /// Every configuration in [`Grid::configurations`](super::Grid::configurations) order.
    pub grid: Vec<GridResult>,
}
