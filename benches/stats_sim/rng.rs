//! A seeded generator with the few laws the studies need.

use adue_compile::score::bootstrap::splitmix64;
use rand::{Rng as _, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// xoshiro256++ seeded with `splitmix64(seed ⊕ splitmix64(stream))`.
pub struct Rng {
    inner: Xoshiro256PlusPlus,
    spare: Option<f64>,
}

impl Rng {
    /// The generator of draw `stream` of a study seeded with `seed`.
    pub fn new(seed: u64, stream: u64) -> Self {
        Rng {
            inner: Xoshiro256PlusPlus::seed_from_u64(splitmix64(seed ^ splitmix64(stream))),
            spare: None,
        }
    }

    /// Uniform on [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.inner.gen()
    }

    /// `true` with probability `p`.
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Standard normal (Box-Muller, both values used).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        self.spare = Some(r * t.sin());
        r * t.cos()
    }

    /// Gamma(shape, 1) (Marsaglia & Tsang 2000; shape < 1 by `Ga(a + 1)·U^(1/a)`).
    pub fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let u = 1.0 - self.uniform();
            return self.gamma(shape + 1.0) * u.powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = 1.0 - self.uniform();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }

    /// Beta(a, b) as `Ga(a) / (Ga(a) + Ga(b))`.
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a);
        let y = self.gamma(b);
        x / (x + y)
    }
}
