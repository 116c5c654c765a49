//! Mahalanobis fitting at scale: time and peak memory of `MahalanobisParams::fit`
//! (class means, within-class covariance / N, jittered Cholesky, `W = L⁻¹`).
//!
//! `cargo bench --bench mahalanobis -- N D` prints one JSON line:
//! `{"n":..,"d":..,"seconds":..,"peak_rss_bytes":..,"features_bytes":..,"jitter":..}`.
//! `bench/mahalanobis.py` runs it next to the same computation in numpy and prints a table.
//! Features are uniform in [-1, 1) plus a class offset (C = 4), from a seeded generator.

use std::time::Instant;

use adue_compile::score::MahalanobisParams;
use linfa::traits::Fit;
use linfa::DatasetBase;
use ndarray::{Array1, Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

const CLASSES: usize = 4;

/// Peak resident set size of this process (`VmHWM`), in bytes.
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (n, d) = match args[..] {
        [n, d, ..] => (n, d),
        _ => (100_000, 1024),
    };
    let labels = Array1::from_shape_fn(n, |i| (i * 7 + i / 3) % CLASSES);
    let mut x = Array2::<f32>::zeros((n, d));
    x.axis_chunks_iter_mut(Axis(0), 1024)
        .into_par_iter()
        .enumerate()
        .for_each(|(b, mut rows)| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(b as u64);
            for (r, mut row) in rows.axis_iter_mut(Axis(0)).enumerate() {
                let c = labels[b * 1024 + r] as f32;
                row.mapv_inplace(|_| rng.gen_range(-1.0f32..1.0) + c * 0.1);
            }
        });
    let t = Instant::now();
    let model = MahalanobisParams::new(CLASSES)
        .background(false)
        .fit(&DatasetBase::new(x.view(), labels.view()))
        .unwrap_or_else(|e| panic!("{e}"));
    let seconds = t.elapsed().as_secs_f64();
    let info = model.within_info();
    println!(
        "{{\"n\":{n},\"d\":{d},\"seconds\":{seconds:.3},\"peak_rss_bytes\":{},\"features_bytes\":{},\"jitter\":{},\"condition_number\":{:.3}}}",
        peak_rss(),
        x.len() * 4,
        info.jitter,
        info.condition_number
    );
}
