//! Training of one grid configuration on a set of rows, one pass (epoch) at a time: mini-batch
//! Adam with a one-cycle schedule, or full-batch Adam at a constant learning rate
//! ([`Schedule`]), dropout in the head. The drivers in `runs` decide when to score and stop.
//!
//! The loop allocates nothing per step: the batch, the dropout mask, the activations and the
//! gradient live in buffers made once per run.

use ndarray::ArrayView2;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::data::Targets;
use super::dropout::{fill_keep, gather, Dropout, LaneRng};
use super::grid::{Config, Schedule};
use super::loss::{data_terms, l2sp_into, LossSpec};
use super::model::{backward, forward, view, Pass, Workspace};
use super::optim::{Adam, OneCycle};
use crate::head::{HeadKind, HeadLayout, UeSpec};

/// Everything shared by the runs of a search (computed once: `e`, `U_SR`, θ₀, split checks).
pub(crate) struct Problem<'a> {
    /// Shape of the head.
    pub arch: HeadLayout,
    /// Original weights θ₀ (start point and L2-SP anchor).
    pub theta0: &'a [f32],
    /// `[N, D]` training features, rows contiguous; a run trains on a subset of these rows.
    pub train_x: ArrayView2<'a, f32>,
    /// `e` and `U_SR` of the training rows.
    pub train: &'a Targets,
    /// Scale and eps of `U` (λ comes from each configuration).
    pub spec: UeSpec,
    /// Mini-batch size (also the chunk size of a full-batch pass).
    pub batch_size: usize,
    /// Dropout probability.
    pub dropout: f64,
    /// Error-balanced sampling instead of shuffling (one-cycle schedule only).
    pub balanced: bool,
    /// Seed of every run (the same for all configurations and folds).
    pub seed: u64,
}

impl Problem<'_> {
    /// The spec of `U` under configuration `cfg` (its λ).
    pub fn spec_of(&self, cfg: &Config) -> UeSpec {
        UeSpec {
            lambda: cfg.lambda,
            ..self.spec
        }
    }
}

/// The learning rate of each step.
enum Rate {
    OneCycle(OneCycle),
    Constant(f64),
}

/// One configuration training on the rows `rows` of the problem, pass by pass.
pub(crate) struct Trainer<'p, 'a> {
    problem: &'p Problem<'a>,
    cfg: Config,
    full_batch: bool,
    rate: Rate,
    loss: LossSpec<f32>,
    dropout: Option<Dropout>,
    theta: Vec<f32>,
    grad: Vec<f32>,
    /// Full batch: the gradient summed over the chunks of a pass.
    acc: Vec<f32>,
    adam: Adam<f32>,
    ws: Workspace<f32>,
    cap: usize,
    xb: Vec<f32>,
    keep: Vec<f32>,
    bits: Vec<u32>,
    eb: Vec<f32>,
    ub: Vec<f32>,
    order: Vec<usize>,
    order_rng: Xoshiro256PlusPlus,
    mask_rng: LaneRng,
    sampler: Sampler,
    step: usize,
    passes: usize,
    pass_loss: f64,
}

impl<'p, 'a> Trainer<'p, 'a> {
    /// A run of `cfg` from θ₀ on `rows` (indices into the problem's training rows, in the
    /// order the first shuffle starts from).
    pub fn new(problem: &'p Problem<'a>, cfg: &Config, rows: &[usize]) -> Self {
        let arch = problem.arch;
        let n = rows.len();
        let cap = problem.batch_size.min(n).max(1);
        let full_batch = cfg.schedule == Schedule::FullBatch;
        let rate = if full_batch {
            Rate::Constant(cfg.lr)
        } else {
            Rate::OneCycle(OneCycle::new(cfg.lr, cfg.epochs * n.div_ceil(cap)))
        };
        let theta = problem.theta0.to_vec();
        let (d, h) = (arch.input_dim(), arch.hidden_dim());
        // Two independent streams: the batch order, and the dropout masks.
        let order_rng = Xoshiro256PlusPlus::seed_from_u64(problem.seed);
        let mut mask_seed = order_rng.clone();
        mask_seed.long_jump();
        Trainer {
            problem,
            cfg: *cfg,
            full_batch,
            rate,
            loss: LossSpec::new(&problem.spec_of(cfg), 1.0, cfg.alpha),
            dropout: Dropout::new(problem.dropout),
            grad: vec![0.0; theta.len()],
            acc: if full_batch {
                vec![0.0; theta.len()]
            } else {
                Vec::new()
            },
            adam: Adam::new(theta.len()),
            theta,
            ws: Workspace::new(&arch, cap),
            cap,
            xb: vec![0.0; cap * d],
            keep: vec![0.0; cap * h],
            bits: vec![0; d.max(h).max(256)],
            eb: vec![0.0; cap],
            ub: vec![0.0; cap],
            order: rows.to_vec(),
            order_rng,
            mask_rng: LaneRng::new(&mut mask_seed),
            sampler: Sampler::new(problem.train, rows, problem.balanced && !full_batch),
            step: 0,
            passes: 0,
            pass_loss: f64::NAN,
        }
    }

    /// The current weights.
    pub fn theta(&self) -> &[f32] {
        &self.theta
    }

    /// Passes trained so far (epochs, or full-batch steps).
    pub fn passes(&self) -> usize {
        self.passes
    }

    /// Loss of the last pass: mean over its mini-batches (one-cycle) or the full-batch loss,
    /// all three terms, dropout on.
    pub fn last_loss(&self) -> f64 {
        self.pass_loss
    }

    /// Trains one pass: every mini-batch of a shuffled epoch, or one full-batch step.
    pub fn pass(&mut self) {
        if self.full_batch {
            self.full_batch_step();
        } else {
            self.sampler
                .epoch_order(&mut self.order_rng, &mut self.order);
            let order = std::mem::take(&mut self.order);
            let mut loss_sum = 0.0f64;
            let batches = order.len().div_ceil(self.cap);
            for batch in order.chunks(self.cap) {
                let data = self.batch_gradient(batch);
                let beta = self.beta();
                let sumsq = l2sp_into(&mut self.grad, &self.theta, self.problem.theta0, beta);
                let lr = self.lr();
                self.adam.step(&mut self.theta, &self.grad, lr);
                self.step += 1;
                loss_sum += data / batch.len() as f64 + self.cfg.beta * f64::from(sumsq);
            }
            self.order = order;
            self.pass_loss = loss_sum / batches as f64;
        }
        self.passes += 1;
    }

    /// One step on the gradient of the mean loss over all rows, summed chunk by chunk
    /// (`∇ = Σ_chunks (rows_c / N) ∇_c`, each chunk's gradient being its own mean).
    fn full_batch_step(&mut self) {
        let order = std::mem::take(&mut self.order);
        let n = order.len() as f32;
        self.acc.fill(0.0);
        let mut data = 0.0f64;
        for chunk in order.chunks(self.cap) {
            data += self.batch_gradient(chunk);
            let w = chunk.len() as f32 / n;
            for (a, &g) in self.acc.iter_mut().zip(&self.grad) {
                *a += w * g;
            }
        }
        let beta = self.beta();
        let sumsq = l2sp_into(&mut self.acc, &self.theta, self.problem.theta0, beta);
        let lr = self.lr();
        self.adam.step(&mut self.theta, &self.acc, lr);
        self.step += 1;
        self.order = order;
        self.pass_loss = data / f64::from(n) + self.cfg.beta * f64::from(sumsq);
    }

    fn beta(&self) -> f32 {
        self.cfg.beta as f32
    }

    fn lr(&self) -> f64 {
        match &self.rate {
            Rate::OneCycle(s) => s.lr(self.step),
            Rate::Constant(lr) => *lr,
        }
    }

    /// Forward and backward over the rows `batch` (dropout on): writes the gradient of the
    /// batch's mean data terms into `grad` and returns their sum `Σ BCE + α Σ align`.
    fn batch_gradient(&mut self, batch: &[usize]) -> f64 {
        let p = self.problem;
        let arch = p.arch;
        let (d, h) = (arch.input_dim(), arch.hidden_dim());
        let rows = batch.len();
        gather(
            self.dropout.as_ref(),
            &mut self.mask_rng,
            &mut self.bits,
            p.train_x,
            batch,
            &mut self.xb[..rows * d],
        );
        for (r, &i) in batch.iter().enumerate() {
            self.eb[r] = p.train.e[i];
            self.ub[r] = p.train.u_sr[i];
        }
        let keep_b = match (&self.dropout, arch.kind()) {
            (Some(dr), HeadKind::Dense) => {
                fill_keep(
                    dr,
                    &mut self.mask_rng,
                    &mut self.bits,
                    &mut self.keep[..rows * h],
                );
                Some(view(&self.keep, rows, h))
            }
            _ => None,
        };
        let x = view(&self.xb, rows, d);
        forward(&arch, &self.theta, x, Pass::Train(keep_b), &mut self.ws);
        let (logits, dlogits) = self.ws.logits_and_grad(rows);
        let terms = data_terms(
            logits,
            &self.eb[..rows],
            &self.ub[..rows],
            &self.loss,
            dlogits,
        );
        backward(&arch, &self.theta, x, keep_b, &mut self.ws, &mut self.grad);
        f64::from(terms.bce) + self.cfg.alpha * f64::from(terms.align)
    }
}

/// How an epoch's rows are drawn.
struct Sampler {
    /// Error rows and correct rows, for balanced sampling; `None` = shuffle.
    balanced: Option<(Vec<usize>, Vec<usize>)>,
}

impl Sampler {
    fn new(train: &Targets, rows: &[usize], balanced: bool) -> Self {
        let split = || rows.iter().partition(|&&i| train.errors[i]);
        Sampler {
            balanced: balanced.then(split),
        }
    }

    /// Fills `order` with this epoch's rows: a shuffle of the previous order, or as many
    /// draws with replacement where each draw is an error with probability ½ (then uniform
    /// within).
    fn epoch_order(&self, rng: &mut Xoshiro256PlusPlus, order: &mut [usize]) {
        match &self.balanced {
            Some((err, ok)) if !err.is_empty() && !ok.is_empty() => {
                for slot in order.iter_mut() {
                    let pool = if rng.gen::<bool>() { err } else { ok };
                    *slot = pool[rng.gen_range(0..pool.len())];
                }
            }
            _ => order.shuffle(rng),
        }
    }
}
