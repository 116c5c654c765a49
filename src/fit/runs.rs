//! The three ways a configuration is trained: with early stopping on a hold-out split
//! ([`holdout_run`]), to the end of its schedule while a held-out fold is scored at every
//! checkpoint ([`fold_curve`]), and on all rows up to a chosen checkpoint ([`refit`]).

use ndarray::{s, ArrayView2};

use super::grid::Config;
use super::model::{forward, Pass, Workspace};
use super::train::{Problem, Trainer};
use super::GridResult;
use crate::head::{softmax_rows, uncertainty_from_probs, HeadLayout};
use crate::score::roc_auc;

/// Rows scored at the checkpoints of a run.
pub(crate) struct EvalSet<'a> {
    /// Feature matrix the rows come from.
    pub x: ArrayView2<'a, f32>,
    /// The rows of `x` to score (ascending); `None`: every row, in order.
    pub rows: Option<&'a [usize]>,
    /// `e` of the scored rows, in the same order.
    pub errors: Vec<bool>,
}

impl EvalSet<'_> {
    fn len(&self) -> usize {
        self.rows.map_or(self.x.nrows(), <[usize]>::len)
    }
}

/// How [`Scorer::roc_auc`] computes the head.
#[derive(Clone, Copy)]
pub(crate) enum Score {
    /// The training kernels (vectorised activations, row-kernel linear heads): the
    /// checkpoint signal.
    Fast,
    /// Bit for bit [`Head::uncertainty`](crate::head::Head::uncertainty), for kept weights.
    Exact,
}

/// Buffers to score θ on an [`EvalSet`].
pub(crate) struct Scorer {
    ws: Workspace<f32>,
    /// Gathered rows, for a set given by row indices.
    xb: Vec<f32>,
    u: Vec<f64>,
}

impl Scorer {
    /// Buffers for `set`: chunks of many rows, so that the weights are packed for the GEMM a
    /// few times per pass rather than once per 128 rows, but at most 2²⁰ activations (and,
    /// for a gathered set, 2²⁰ gathered features) per buffer.
    pub fn new(arch: &HeadLayout, set: &EvalSet) -> Scorer {
        let width = arch.hidden_dim().max(arch.num_classes()).max(1);
        let d = arch.input_dim();
        let mut cap = set.len().min((1 << 20) / width).max(1);
        if set.rows.is_some() {
            cap = cap.min((1 << 20) / d.max(1)).max(1);
        }
        Scorer {
            ws: Workspace::new(arch, cap),
            xb: if set.rows.is_some() {
                vec![0.0; cap * d]
            } else {
                Vec::new()
            },
            u: Vec::with_capacity(set.len()),
        }
    }

    /// Error ROC-AUC of `U` under θ (with λ of `cfg`) on `set`; `None` when undefined.
    pub fn roc_auc(
        &mut self,
        problem: &Problem,
        cfg: &Config,
        theta: &[f32],
        set: &EvalSet,
        score: Score,
    ) -> Option<f64> {
        let spec = problem.spec_of(cfg);
        let pass = match score {
            Score::Fast => Pass::Train(None),
            Score::Exact => Pass::Eval,
        };
        let cap = self.ws.capacity();
        let d = problem.arch.input_dim();
        self.u.clear();
        for start in (0..set.len()).step_by(cap) {
            let end = (start + cap).min(set.len());
            let x = match set.rows {
                None => set.x.slice(s![start..end, ..]),
                Some(rows) => {
                    let idx = &rows[start..end];
                    let buf = &mut self.xb[..idx.len() * d];
                    gather_plain(set.x, idx, buf);
                    ArrayView2::from_shape((idx.len(), d), &*buf).expect("buffer sized for rows")
                }
            };
            forward(&problem.arch, theta, x, pass, &mut self.ws);
            let p = softmax_rows(self.ws.logits(x.nrows()));
            self.u.extend(
                p.rows()
                    .into_iter()
                    .map(|row| f64::from(uncertainty_from_probs(row, &spec))),
            );
        }
        roc_auc(&self.u, &set.errors)
    }
}

/// Copies rows `idx` of `x` into `dst` (no dropout).
fn gather_plain(x: ArrayView2<f32>, idx: &[usize], dst: &mut [f32]) {
    let d = x.ncols();
    for (out, &i) in dst.chunks_exact_mut(d.max(1)).zip(idx) {
        for (o, &v) in out.iter_mut().zip(x.row(i)) {
            *o = v;
        }
    }
}

/// A finished hold-out run: its score and the weights it kept.
pub(crate) struct Run {
    /// Score and bookkeeping.
    pub result: GridResult,
    /// θ at the best checkpoint.
    pub theta: Vec<f32>,
}

/// Trains `cfg` on all training rows, scores `val` at every checkpoint and stops after
/// `patience` checkpoints without improvement, keeping the weights of the best checkpoint.
pub(crate) fn holdout_run(problem: &Problem, cfg: &Config, val: &EvalSet, patience: usize) -> Run {
    let rows: Vec<usize> = (0..problem.train_x.nrows()).collect();
    let mut trainer = Trainer::new(problem, cfg, &rows);
    let mut scorer = Scorer::new(&problem.arch, val);
    let mut best_theta = trainer.theta().to_vec();
    let (mut best_auc, mut best_epoch, mut since_best) = (None::<f64>, 0, 0);
    for checkpoint in cfg.checkpoints() {
        while trainer.passes() < checkpoint {
            trainer.pass();
        }
        let auc = scorer.roc_auc(problem, cfg, trainer.theta(), val, Score::Fast);
        let improved = match (auc, best_auc) {
            (Some(a), Some(b)) => a > b,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if improved {
            (best_auc, best_epoch, since_best) = (auc, checkpoint, 0);
            best_theta.copy_from_slice(trainer.theta());
        } else {
            since_best += 1;
            if since_best >= patience {
                break;
            }
        }
    }
    if best_epoch == 0 {
        best_theta.copy_from_slice(trainer.theta());
    }
    // The reported score is that of the kept weights under `Head`'s own arithmetic, so that
    // it equals what the scorer recomputes from the written head.
    let val_roc_auc = match best_auc {
        Some(_) => scorer.roc_auc(problem, cfg, &best_theta, val, Score::Exact),
        None => None,
    };
    Run {
        result: GridResult::new(cfg, best_epoch, val_roc_auc, trainer.last_loss()),
        theta: best_theta,
    }
}

/// The held-out error ROC-AUC of one run at each of its checkpoints, and its last loss.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Curve {
    /// One value per [`Config::checkpoints`] entry; `None` where undefined (diverged).
    pub auc: Vec<Option<f64>>,
    /// Loss of the last pass.
    pub final_loss: f64,
}

/// Trains `cfg` on `rows` to the end of its schedule (no early stopping) and scores `held`
/// at every checkpoint.
pub(crate) fn fold_curve(problem: &Problem, cfg: &Config, rows: &[usize], held: &EvalSet) -> Curve {
    let mut trainer = Trainer::new(problem, cfg, rows);
    let mut scorer = Scorer::new(&problem.arch, held);
    let auc = cfg
        .checkpoints()
        .into_iter()
        .map(|checkpoint| {
            while trainer.passes() < checkpoint {
                trainer.pass();
            }
            scorer.roc_auc(problem, cfg, trainer.theta(), held, Score::Fast)
        })
        .collect();
    Curve {
        auc,
        final_loss: trainer.last_loss(),
    }
}

/// Trains `cfg` on `rows` for `passes` passes of its schedule (the schedule keeps its full
/// length, so the learning rate at each step is that of a complete run) and returns θ and
/// the loss of the last pass.
pub(crate) fn refit(
    problem: &Problem,
    cfg: &Config,
    rows: &[usize],
    passes: usize,
) -> (Vec<f32>, f64) {
    let mut trainer = Trainer::new(problem, cfg, rows);
    while trainer.passes() < passes {
        trainer.pass();
    }
    (trainer.theta().to_vec(), trainer.last_loss())
}
