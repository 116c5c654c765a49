//! Fit stage: train the AdUE uncertainty head (Zabolotnyi et al. 2025, arXiv 2505.15443).
//!
//! Starting from an exact copy of the classification head, the UE head `g` is trained on
//! cached features with
//! `L = BCE(U, e) + α·mean((U − U_SR)²) + β·Σ‖θ − θ₀‖²`,
//! `U = clamp(scale·(1 − SmoothMax_λ(softmax(g(h)))), eps, 1 − eps)`, where `e` marks the
//! rows the ORIGINAL head gets wrong and `U_SR` is its softmax response (`src/fit/loss.rs`).
//! Adam with a one-cycle cosine schedule over mini-batches of 128 or full-batch Adam at a
//! constant rate ([`optim`], [`Schedule`]), dropout in the head; a grid over α, β, lr, λ and
//! epochs ([`Grid`]) is searched in parallel. Selection is by stratified k-fold
//! cross-validation with a refit on all training rows ([`fit_cv`], the default of `fit`) or
//! by early stopping and the error ROC-AUC on a hold-out split ([`fit`]). The result, a
//! [`UeHead`](crate::head::UeHead), is stored as `head.safetensors`
//! ([`crate::head::write_head`]).
//!
//! Layout: `model` is the head as a differentiable function (hand-derived backward, generic
//! over f32/f64; `gradcheck` checks it against finite differences) on θ cut by the head's
//! [`HeadLayout`](crate::head::HeadLayout) (`theta`), with its row and element-wise kernels in
//! `kernels`; `loss` the AdUE loss,
//! `optim` Adam and the schedule, `train` one configuration pass by pass, `runs` the ways a
//! configuration is run (early stopping, fold curve, refit), `folds` the stratified folds,
//! `select` hold-out selection and `cv` cross-validated selection. Speed: training runs in f32 with no allocation per step; GEMMs go to
//! matrixmultiply, the element-wise kernels (dropout masks from a 16-lane xoshiro128++,
//! activations, Adam) are dispatched at run time to AVX-512/AVX2 builds (`simd`), and skinny
//! layers (at most 16 classes) use row kernels instead of GEMMs. The element-wise kernels give
//! the same bits on every instruction set (tested on whole training runs), and runs never
//! share state, so the result depends only on the inputs and the seed, not on the thread
//! count.

mod cv;
mod data;
mod dropout;
mod error;
mod fastmath;
mod folds;
mod grid;
mod holdout;
mod kernels;
mod loss;
mod model;
pub mod optim;
mod outcome;
mod params;
mod progress;
mod runs;
mod select;
mod simd;
mod theta;
mod train;

#[cfg(test)]
mod gradcheck;

pub use cv::{fit_cv, refit_config, trace};
pub use data::FitData;
pub use error::FitError;
pub use folds::{stratified_folds, MAX_FOLDS};
pub use grid::{
    Config, Grid, GridBlock, Schedule, DEFAULT_LAMBDA, FULL_BATCH_CHECKPOINT, MAX_CONFIGURATIONS,
    MAX_EPOCHS,
};
pub use holdout::{stratified_holdout, MIN_VAL_ROWS};
pub use outcome::{CvRecord, FitOutcome, GridResult};
pub use params::{AdueParams, AdueValidParams};
pub use runs::Curve;
pub use select::fit;
