//! Fit stage: train the AdUE uncertainty head (Zabolotnyi et al. 2025, arXiv 2505.15443).
//!
//! Starting from an exact copy of the classification head, the UE head `g` is trained on
//! cached features with
//! `L = BCE(U, e) + α·mean((U − U_SR)²) + β·Σ‖θ − θ₀‖²`,
//! `U = clamp(scale·(1 − SmoothMax_λ(softmax(g(h)))), eps, 1 − eps)`, where `e` marks the
//! rows the ORIGINAL head gets wrong and `U_SR` is its softmax response (`src/fit/loss.rs`).
//! Adam with a one-cycle cosine schedule ([`optim`]), mini-batches of 128, dropout in the
//! head, early stopping on the validation error ROC-AUC; a grid over α, β, lr and epochs
//! ([`Grid`]) is searched in parallel and the best configuration by validation error ROC-AUC
//! wins ([`fit`]). The result, a [`UeHead`](crate::head::UeHead), is stored as
//! `head.safetensors` ([`crate::head::write_head`]).
//!
//! Layout: `model` is the head as a differentiable function (hand-derived backward, generic
//! over f32/f64; `gradcheck` checks it against finite differences) on θ cut by the head's
//! [`HeadLayout`](crate::head::HeadLayout) (`theta`), with its row and element-wise kernels in
//! `kernels`; `loss` the AdUE loss,
//! `optim` Adam and the schedule, `train` one configuration, `select` the parallel grid
//! search. Speed: training runs in f32 with no allocation per step; GEMMs go to
//! matrixmultiply, the element-wise kernels (dropout masks from a 16-lane xoshiro128++,
//! activations, Adam) are dispatched at run time to AVX-512/AVX2 builds (`simd`), and skinny
//! layers (at most 16 classes) use row kernels instead of GEMMs. The element-wise kernels give
//! the same bits on every instruction set (tested on whole training runs), and runs never
//! share state, so the result depends only on the inputs and the seed, not on the thread
//! count.

mod data;
mod dropout;
mod error;
mod fastmath;
mod grid;
mod holdout;
mod kernels;
mod loss;
mod model;
pub mod optim;
mod outcome;
mod params;
mod progress;
mod select;
mod simd;
mod theta;
mod train;

#[cfg(test)]
mod gradcheck;

pub use data::FitData;
pub use error::FitError;
pub use grid::{Config, Grid, MAX_CONFIGURATIONS, MAX_EPOCHS};
pub use holdout::{stratified_holdout, MIN_VAL_ROWS};
pub use outcome::{FitOutcome, GridResult};
pub use params::{AdueParams, AdueValidParams};
pub use select::fit;
