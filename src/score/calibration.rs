//! Calibration of the top-class probability (CONTRACT §5): accuracy, ECE (plug-in and
//! debiased), adaptive ECE, MCE, Brier and NLL, optionally weighted by bootstrap
//! multiplicities.

use super::logits::LogitStats;

/// Number of bins of ECE, MCE and adaptive ECE.
pub const ECE_BINS: usize = 15;

/// Calibration metrics of one set of probabilities on one (re)sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrationMetrics {
    /// Fraction of correct predictions.
    pub accuracy: f64,
    /// Expected calibration error: 15 equal-width bins on the top-class probability, bins
    /// `(lo, hi]` with edges `k/15` (the first bin `[0, 1/15]`);
    /// `Σ_b (n_b/N) |acc_b − conf_b|`.
    pub ece: f64,
    /// Debiased ECE (Kumar, Liang & Ma 2019, `normal_debiased_ce`) on the same bins:
    /// `2·ECE − Σ_b (n_b/N)·E|N(acc_b − conf_b, s_b²)|`, `s_b² = acc_b(1 − acc_b)/n_b`,
    /// with the expectation in closed form ([`abs_normal_mean`]). The plug-in ECE is
    /// biased upward by the binomial noise of `acc_b`; this removes that bias to first
    /// order. It can be negative (a calibrated model), and is reported unclipped.
    pub ece_debiased: f64,
    /// The same sum over 15 equal-mass bins: samples sorted by confidence (ties by row
    /// index) and split into chunks whose sizes differ by at most one, the larger first
    /// (`numpy.array_split`); empty chunks (N < 15) are skipped.
    pub adaptive_ece: f64,
    /// Maximum calibration error: max over non-empty equal-width bins of `|acc_b − conf_b|`.
    pub mce: f64,
    /// Mean Brier score `Σ_k (p_k − 1[k = y])²`.
    pub brier: f64,
    /// Mean negative log-likelihood `−ln p_y`.
    pub nll: f64,
}

/// Per-sample inputs of the calibration metrics, with the bin assignments and the
/// confidence order computed once for all resamples.
#[derive(Debug, Clone)]
pub struct Calibration {
    confidence: Vec<f64>,
    correct: Vec<bool>,
    brier: Vec<f64>,
    nll: Vec<f64>,
    bin: Vec<usize>,
    order: Vec<usize>,
}

/// Per-bin sums of an equal-width or equal-mass binning.
#[derive(Debug, Clone, Copy, Default)]
struct BinSums {
    weight: f64,
    correct: f64,
    confidence: f64,
}

impl BinSums {
    fn add(&mut self, w: f64, correct: bool, confidence: f64) {
        self.weight += w;
        if correct {
            self.correct += w;
        }
        self.confidence += w * confidence;
    }

    /// `|acc_b − conf_b|`; `None` for an empty bin.
    fn gap(&self) -> Option<f64> {
        (self.weight > 0.0)
            .then(|| (self.correct / self.weight - self.confidence / self.weight).abs())
    }

    /// `E|N(acc_b − conf_b, acc_b(1 − acc_b)/n_b)|`, the plug-in gap's expectation under the
    /// binomial noise of `acc_b`; `None` for an empty bin.
    fn expected_noisy_gap(&self) -> Option<f64> {
        (self.weight > 0.0).then(|| {
            let acc = self.correct / self.weight;
            let s = (acc * (1.0 - acc) / self.weight).sqrt();
            abs_normal_mean(acc - self.confidence / self.weight, s)
        })
    }
}

/// `E|X|` for `X ~ N(μ, s²)`: `s·√(2/π)·exp(−μ²/2s²) + μ·(1 − 2Φ(−μ/s))`, and `|μ|` when
/// `s = 0` (the folded normal's mean).
pub fn abs_normal_mean(mu: f64, s: f64) -> f64 {
    if s <= 0.0 {
        return mu.abs();
    }
    let z = mu / s;
    // Φ(−z) = erfc(z/√2)/2, so 1 − 2Φ(−z) = 1 − erfc(z/√2).
    s * (2.0 / std::f64::consts::PI).sqrt() * (-0.5 * z * z).exp()
        + mu * (1.0 - libm::erfc(z / std::f64::consts::SQRT_2))
}

/// Equal-width bin of a confidence: the number of inner edges `k/15` (k = 1..14) strictly
/// below it, so bins are `(lo, hi]` and `0` falls in the first.
pub fn equal_width_bin(confidence: f64) -> usize {
    (1..ECE_BINS)
        .take_while(|&k| (k as f64 / ECE_BINS as f64) < confidence)
        .count()
}

impl Calibration {
    /// Prepares the metrics of the probabilities summarised by `stats`.
    pub fn new(stats: &LogitStats) -> Self {
        let confidence = stats.confidence.to_vec();
        let mut order: Vec<usize> = (0..confidence.len()).collect();
        order.sort_by(|&a, &b| confidence[a].total_cmp(&confidence[b]));
        Calibration {
            bin: confidence.iter().map(|&c| equal_width_bin(c)).collect(),
            correct: stats.errors.iter().map(|&e| !e).collect(),
            brier: stats.brier.to_vec(),
            nll: stats.nll.to_vec(),
            confidence,
            order,
        }
    }

    /// The metrics, each sample counted `weights[i]` times (once when `None`);
    /// `None` when no sample has weight.
    pub fn compute(&self, weights: Option<&[u32]>) -> Option<CalibrationMetrics> {
        let w = |i: usize| weights.map_or(1.0, |w| f64::from(w[i]));
        let mut bins = [BinSums::default(); ECE_BINS];
        let (mut n, mut correct, mut brier, mut nll) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for i in 0..self.confidence.len() {
            let wi = w(i);
            if wi == 0.0 {
                continue;
            }
            n += wi;
            if self.correct[i] {
                correct += wi;
            }
            brier += wi * self.brier[i];
            nll += wi * self.nll[i];
            bins[self.bin[i]].add(wi, self.correct[i], self.confidence[i]);
        }
        if n == 0.0 {
            return None;
        }
        let weighted = |f: fn(&BinSums) -> Option<f64>| -> f64 {
            bins.iter()
                .filter_map(|b| f(b).map(|g| b.weight / n * g))
                .sum()
        };
        let ece = weighted(BinSums::gap);
        let ece_debiased = 2.0 * ece - weighted(BinSums::expected_noisy_gap);
        let mce = bins.iter().filter_map(BinSums::gap).fold(0.0, f64::max);
        Some(CalibrationMetrics {
            accuracy: correct / n,
            ece,
            ece_debiased,
            adaptive_ece: self.adaptive_ece(n, &w),
            mce,
            brier: brier / n,
            nll: nll / n,
        })
    }

    /// The metrics with each row left out in turn (the jackknife of BCa intervals): `N`
    /// evaluations of O(N) each. Empty for fewer than two rows.
    pub fn jackknife(&self) -> Vec<CalibrationMetrics> {
        let n = self.confidence.len();
        let mut w = vec![1u32; n];
        (0..n)
            .filter_map(|i| {
                w[i] = 0;
                let m = self.compute(Some(&w));
                w[i] = 1;
                m
            })
            .collect()
    }

    /// Equal-mass ECE over a (weighted) sample of total weight `n`: a sample of weight `w`
    /// occupies `w` consecutive positions of the sorted resample, and the positions are cut
    /// into the chunk sizes of `numpy.array_split(·, 15)`.
    fn adaptive_ece(&self, n: f64, w: &dyn Fn(usize) -> f64) -> f64 {
        // n is a whole number of samples (a sum of integer weights).
        let total = n as u64;
        let bins = ECE_BINS as u64;
        let (base, extra) = (total / bins, total % bins);
        let size = |b: u64| base + u64::from(b < extra);
        let mut sums = [BinSums::default(); ECE_BINS];
        let (mut b, mut room) = (0u64, size(0));
        for &i in &self.order {
            let mut left = w(i) as u64;
            while left > 0 {
                while room == 0 {
                    b += 1;
                    room = size(b);
                }
                let take = left.min(room);
                sums[b as usize].add(take as f64, self.correct[i], self.confidence[i]);
                left -= take;
                room -= take;
            }
        }
        sums.iter()
            .filter_map(|s| s.gap().map(|g| s.weight / n * g))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    fn stats(conf: &[f64], correct: &[bool]) -> LogitStats {
        let n = conf.len();
        LogitStats {
            predictions: Array1::zeros(n),
            errors: correct.iter().map(|&c| !c).collect(),
            confidence: Array1::from(conf.to_vec()),
            entropy: Array1::zeros(n),
            nll: Array1::from_elem(n, 0.5),
            brier: Array1::from_elem(n, 0.25),
        }
    }

    #[test]
    fn bins_are_left_open_right_closed() {
        assert_eq!(equal_width_bin(0.0), 0);
        assert_eq!(equal_width_bin(1.0 / 15.0), 0);
        assert_eq!(equal_width_bin(1.0 / 15.0 + 1e-12), 1);
        assert_eq!(equal_width_bin(1.0), 14);
        assert_eq!(equal_width_bin(14.0 / 15.0), 13);
    }

    #[test]
    fn ece_by_hand() {
        // Bin 14 (conf 0.95, 0.97): acc 1/2, mean conf 0.96 → gap 0.46, weight 2/3.
        // Bin 7 (0.5): acc 1, conf 0.5 → gap 0.5, weight 1/3.
        let s = stats(&[0.95, 0.97, 0.5], &[true, false, true]);
        let m = Calibration::new(&s).compute(None).unwrap();
        let expect = 2.0 / 3.0 * 0.46 + 1.0 / 3.0 * 0.5;
        assert!((m.ece - expect).abs() < 1e-15, "{}", m.ece);
        assert!((m.mce - 0.5).abs() < 1e-15);
        // Debiased: bin 14 has acc ½ over 2 rows, s = √(¼/2); bin 7 has acc 1, s = 0.
        let s14 = (0.25f64 / 2.0).sqrt();
        let folded = |mu: f64, s: f64| {
            // E|N(μ, s²)| by numerical integration (midpoint rule on ±12 s).
            let steps = 200_000;
            let h = 24.0 * s / steps as f64;
            (0..steps)
                .map(|i| {
                    let x = mu - 12.0 * s + (i as f64 + 0.5) * h;
                    let d = (-(x - mu).powi(2) / (2.0 * s * s)).exp()
                        / (s * (2.0 * std::f64::consts::PI).sqrt());
                    x.abs() * d * h
                })
                .sum::<f64>()
        };
        let expect_db = 2.0 * expect - (2.0 / 3.0 * folded(0.5 - 0.96, s14) + 1.0 / 3.0 * 0.5);
        assert!(
            (m.ece_debiased - expect_db).abs() < 1e-9,
            "{} vs {expect_db}",
            m.ece_debiased
        );
        assert!((m.accuracy - 2.0 / 3.0).abs() < 1e-15);
        assert!((m.brier - 0.25).abs() < 1e-15 && (m.nll - 0.5).abs() < 1e-15);
        // Three samples, 15 equal-mass chunks of sizes 1,1,1,0,...: one sample per chunk.
        let aece = (0.5f64 - 1.0).abs() + (0.95f64 - 1.0).abs() + (0.97f64 - 0.0).abs();
        assert!((m.adaptive_ece - aece / 3.0).abs() < 1e-15);
    }

    #[test]
    fn weights_equal_explicit_repetition() {
        let conf: Vec<f64> = (0..40).map(|i| 0.3 + 0.017 * (i % 23) as f64).collect();
        let correct: Vec<bool> = (0..40).map(|i| i % 3 != 0).collect();
        let w: Vec<u32> = (0..40).map(|i| (i * 7 % 4) as u32).collect();
        let (mut rc, mut rk) = (Vec::new(), Vec::new());
        for i in 0..40 {
            for _ in 0..w[i] {
                rc.push(conf[i]);
                rk.push(correct[i]);
            }
        }
        let weighted = Calibration::new(&stats(&conf, &correct)).compute(Some(&w));
        let repeated = Calibration::new(&stats(&rc, &rk)).compute(None);
        let (a, b) = (weighted.unwrap(), repeated.unwrap());
        assert!((a.ece - b.ece).abs() < 1e-14 && (a.mce - b.mce).abs() < 1e-14);
        assert!((a.ece_debiased - b.ece_debiased).abs() < 1e-14);
        assert!((a.adaptive_ece - b.adaptive_ece).abs() < 1e-14);
        assert!((a.accuracy - b.accuracy).abs() < 1e-14);
    }
}
