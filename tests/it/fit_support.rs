//! Test data for the fit stage: synthetic Gaussian-mixture features with an original head
//! that makes errors.

use adue_compile::fit::FitData;
use adue_compile::head::{Activation, Head};
use ndarray::{Array1, Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// One split: features, labels and the original head's logits.
pub struct Split {
    pub x: Array2<f32>,
    pub y: Array1<usize>,
    pub logits: Array2<f32>,
}

impl Split {
    pub fn data(&self) -> FitData<'_> {
        FitData {
            features: self.x.view(),
            labels: self.y.view(),
            original_logits: self.logits.view(),
        }
    }

    /// Rows `idx` of this split.
    pub fn select(&self, idx: &[usize]) -> Split {
        Split {
            x: self.x.select(Axis(0), idx),
            y: self.y.select(Axis(0), idx),
            logits: self.logits.select(Axis(0), idx),
        }
    }

    /// `e`: where the original head is wrong.
    pub fn errors(&self) -> Vec<bool> {
        self.logits
            .rows()
            .into_iter()
            .zip(&self.y)
            .map(|(z, &y)| {
                let arg = z
                    .iter()
                    .enumerate()
                    .fold(0, |b, (i, &v)| if v > z[b] { i } else { b });
                arg != y
            })
            .collect()
    }
}

/// A head and its three splits.
pub struct Problem {
    pub head: Head,
    pub train: Split,
    pub val: Split,
    pub test: Split,
}

fn normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    // Box–Muller.
    let (u1, u2): (f64, f64) = (rng.gen_range(f64::EPSILON..1.0), rng.gen());
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// `C` Gaussian classes in `D` dimensions with per-row noise levels; rows with more noise are
/// more often misclassified. The head is a prototype classifier (`dense = false`) or
/// `tanh(xW₁ᵀ)` followed by prototypes in the hidden space (`dense = true`, H = D/2).
pub fn synthetic(dense: bool, d: usize, c: usize, n: [usize; 3], seed: u64) -> Problem {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let means = Array2::from_shape_fn((c, d), |_| normal(&mut rng) as f32 * 0.6);
    let head = if dense {
        let h = d / 2;
        let w1 = Array2::from_shape_fn((h, d), |_| {
            (normal(&mut rng) / (d as f64).sqrt()) as f32 * 2.0
        });
        let b1 = Array1::from_shape_fn(h, |_| normal(&mut rng) as f32 * 0.1);
        let proto = (means.dot(&w1.t()) + &b1).mapv(f32::tanh);
        let out_bias = proto
            .rows()
            .into_iter()
            .map(|p| -0.5 * p.dot(&p) * 2.0)
            .collect();
        Head::Dense {
            dense_weight: w1,
            dense_bias: b1,
            activation: Activation::Tanh,
            out_weight: proto * 2.0,
            out_bias,
        }
    } else {
        let bias = means.rows().into_iter().map(|m| -0.5 * m.dot(&m)).collect();
        Head::Linear {
            weight: means.clone(),
            bias: Some(bias),
        }
    };
    let mut split = |rows: usize| {
        let y: Array1<usize> = (0..rows).map(|_| rng.gen_range(0..c)).collect();
        let mut x = Array2::zeros((rows, d));
        for (i, mut row) in x.rows_mut().into_iter().enumerate() {
            let noise = rng.gen_range(0.2..1.6);
            for (j, v) in row.iter_mut().enumerate() {
                *v = means[[y[i], j]] + (noise * normal(&mut rng)) as f32 * 0.8;
            }
        }
        let logits = head.logits(x.view());
        Split { x, y, logits }
    };
    let (train, val, test) = (split(n[0]), split(n[1]), split(n[2]));
    Problem {
        head,
        train,
        val,
        test,
    }
}
