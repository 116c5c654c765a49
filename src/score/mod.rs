//! Scoring: uncertainty baselines and the metrics of CONTRACT §5.

pub mod roc_auc;

pub use roc_auc::roc_auc;
