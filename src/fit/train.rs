//! Training of one grid configuration: mini-batch Adam with a one-cycle schedule, dropout,
//! and early stopping on the validation error ROC-AUC with best-epoch restore.
//!
//! The loop allocates nothing per step: the batch, the dropout mask, the activations and the
//! gradient live in buffers made once per run.

use ndarray::{s, ArrayView2};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::data::Targets;
use super::dropout::{fill_keep, gather, Dropout, LaneRng};
use super::grid::Config;
use super::loss::{data_terms, l2sp_into, LossSpec};
use super::model::{backward, forward, view, Pass, Workspace};
use super::optim::{Adam, OneCycle};
use super::GridResult;
use crate::head::{softmax_rows, uncertainty_from_probs, HeadKind, HeadLayout, UeSpec};
use crate::score::roc_auc;

/// Everything shared by the runs of a grid (computed once: `e`, `U_SR`, θ₀, split checks).
pub(crate) struct Problem<'a> {
    /// Shape of the head.
    pub arch: HeadLayout,
    /// Original weights θ₀ (start point and L2-SP anchor).
    pub theta0: &'a [f32],
    /// `[N, D]` training features, rows contiguous.
    pub train_x: ArrayView2<'a, f32>,
    /// `e` and `U_SR` of the training rows.
    pub train: &'a Targets,
    /// `[M, D]` validation features.
    pub val_x: ArrayView2<'a, f32>,
    /// `e` of the validation rows.
    pub val_errors: &'a [bool],
    /// λ, scale, eps.
    pub spec: UeSpec,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Dropout probability.
    pub dropout: f64,
    /// Early-stopping patience (epochs).
    pub patience: usize,
    /// Error-balanced sampling instead of shuffling.
    pub balanced: bool,
    /// Seed of every run (the same for all configurations).
    pub seed: u64,
}

/// A finished run: its score and the weights it kept.
pub(crate) struct Run {
    /// Score and bookkeeping.
    pub result: GridResult,
    /// θ at the best epoch.
    pub theta: Vec<f32>,
}

/// Trains configuration `cfg` from θ₀.
pub(crate) fn run(problem: &Problem, cfg: &Config) -> Run {
    let arch = problem.arch;
    let n = problem.train_x.nrows();
    let cap = problem.batch_size.min(n).max(1);
    let steps_per_epoch = n.div_ceil(cap);
    let schedule = OneCycle::new(cfg.lr, cfg.epochs * steps_per_epoch);
    let loss = LossSpec::<f32>::new(&problem.spec, 1.0, cfg.alpha);
    let beta = cfg.beta as f32;
    let dropout = Dropout::new(problem.dropout);

    let mut theta = problem.theta0.to_vec();
    let mut best_theta = theta.clone();
    let mut grad = vec![0.0f32; theta.len()];
    let mut adam = Adam::<f32>::new(theta.len());
    let mut ws = Workspace::<f32>::new(&arch, cap);
    let mut eval_ws = Workspace::<f32>::new(&arch, eval_rows(&arch, problem.val_x.nrows()));
    let (d, h) = (arch.input_dim(), arch.hidden_dim());
    let mut xb = vec![0.0f32; cap * d];
    let mut keep = vec![0.0f32; cap * h];
    let mut bits = vec![0u32; d.max(h).max(256)];
    let (mut eb, mut ub) = (vec![0.0f32; cap], vec![0.0f32; cap]);
    let mut u_val = Vec::with_capacity(problem.val_x.nrows());

    // Two independent streams: the batch order, and the dropout masks.
    let mut order_rng = Xoshiro256PlusPlus::seed_from_u64(problem.seed);
    let mut mask_seed = order_rng.clone();
    mask_seed.long_jump();
    let mut mask_rng = LaneRng::new(&mut mask_seed);
    let sampler = Sampler::new(problem.train, problem.balanced);
    let mut order: Vec<usize> = (0..n).collect();

    let (mut best_auc, mut best_epoch, mut since_best) = (None::<f64>, 0, 0);
    let mut step = 0;
    let mut epoch_loss = f64::NAN;
    for epoch in 1..=cfg.epochs {
        sampler.epoch_order(&mut order_rng, &mut order);
        let mut loss_sum = 0.0f64;
        for batch in order.chunks(cap) {
            let rows = batch.len();
            gather(
                dropout.as_ref(),
                &mut mask_rng,
                &mut bits,
                problem.train_x,
                batch,
                &mut xb[..rows * d],
            );
            for (r, &i) in batch.iter().enumerate() {
                eb[r] = problem.train.e[i];
                ub[r] = problem.train.u_sr[i];
            }
            let keep_b = match (&dropout, arch.kind()) {
                (Some(dr), HeadKind::Dense) => {
                    fill_keep(dr, &mut mask_rng, &mut bits, &mut keep[..rows * h]);
                    Some(view(&keep, rows, h))
                }
                _ => None,
            };
            let x = view(&xb, rows, d);
            forward(&arch, &theta, x, Pass::Train(keep_b), &mut ws);
            let (logits, dlogits) = ws.logits_and_grad(rows);
            let terms = data_terms(logits, &eb[..rows], &ub[..rows], &loss, dlogits);
            backward(&arch, &theta, x, keep_b, &mut ws, &mut grad);
            let sumsq = l2sp_into(&mut grad, &theta, problem.theta0, beta);
            adam.step(&mut theta, &grad, schedule.lr(step));
            step += 1;
            loss_sum += (f64::from(terms.bce) + cfg.alpha * f64::from(terms.align)) / rows as f64
                + cfg.beta * f64::from(sumsq);
        }
        epoch_loss = loss_sum / steps_per_epoch as f64;

        let auc = val_roc_auc(problem, &theta, Score::Fast, &mut eval_ws, &mut u_val);
        let improved = match (auc, best_auc) {
            (Some(a), Some(b)) => a > b,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if improved {
            (best_auc, best_epoch, since_best) = (auc, epoch, 0);
            best_theta.copy_from_slice(&theta);
        } else {
            since_best += 1;
            if since_best >= problem.patience {
                break;
            }
        }
    }
    if best_epoch == 0 {
        best_theta.copy_from_slice(&theta);
    }
    // The reported score is that of the kept weights under `Head`'s own arithmetic, so that
    // it equals what the scorer recomputes from the written head.
    let val_roc_auc = match best_auc {
        Some(_) => val_roc_auc(problem, &best_theta, Score::Exact, &mut eval_ws, &mut u_val),
        None => None,
    };
    Run {
        result: GridResult {
            alpha: cfg.alpha,
            beta: cfg.beta,
            lr: cfg.lr,
            epochs: cfg.epochs,
            best_epoch,
            val_roc_auc,
            final_train_loss: epoch_loss,
        },
        theta: best_theta,
    }
}

/// Rows per validation chunk: large, so that the weights are packed for the GEMM a few
/// times per epoch rather than once per 128 rows, but at most 2²⁰ activations per buffer.
fn eval_rows(arch: &HeadLayout, rows: usize) -> usize {
    let width = arch.hidden_dim().max(arch.num_classes()).max(1);
    rows.min((1 << 20) / width).max(1)
}

/// How [`val_roc_auc`] computes the head.
#[derive(Clone, Copy)]
enum Score {
    /// The training kernels (vectorised activations, row-kernel linear heads): the
    /// early-stopping signal of every epoch.
    Fast,
    /// Bit for bit [`Head::uncertainty`](crate::head::Head::uncertainty), for the kept weights.
    Exact,
}

/// Error ROC-AUC of the head θ on the validation split.
fn val_roc_auc(
    problem: &Problem,
    theta: &[f32],
    score: Score,
    ws: &mut Workspace<f32>,
    u: &mut Vec<f64>,
) -> Option<f64> {
    u.clear();
    let m = problem.val_x.nrows();
    let cap = ws.capacity();
    let pass = match score {
        Score::Fast => Pass::Train(None),
        Score::Exact => Pass::Eval,
    };
    for start in (0..m).step_by(cap) {
        let x = problem.val_x.slice(s![start..(start + cap).min(m), ..]);
        forward(&problem.arch, theta, x, pass, ws);
        let p = softmax_rows(ws.logits(x.nrows()));
        u.extend(
            p.rows()
                .into_iter()
                .map(|row| f64::from(uncertainty_from_probs(row, &problem.spec))),
        );
    }
    roc_auc(u, problem.val_errors)
}

/// How an epoch's rows are drawn.
struct Sampler {
    /// Error rows and correct rows, for balanced sampling; `None` = shuffle.
    balanced: Option<(Vec<usize>, Vec<usize>)>,
}

impl Sampler {
    fn new(train: &Targets, balanced: bool) -> Self {
        let split = || {
            let (err, ok): (Vec<usize>, Vec<usize>) =
                (0..train.errors.len()).partition(|&i| train.errors[i]);
            (err, ok)
        };
        Sampler {
            balanced: balanced.then(split),
        }
    }

    /// Fills `order` (length N) with this epoch's rows: a permutation, or N draws with
    /// replacement where each draw is an error with probability ½ (then uniform within).
    fn epoch_order(&self, rng: &mut Xoshiro256PlusPlus, order: &mut [usize]) {
        match &self.balanced {
            None => order.shuffle(rng),
            Some((err, ok)) => {
                for slot in order.iter_mut() {
                    let pool = if rng.gen::<bool>() { err } else { ok };
                    *slot = pool[rng.gen_range(0..pool.len())];
                }
            }
        }
    }
}
