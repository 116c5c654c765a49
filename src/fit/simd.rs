//! Runtime dispatch of the element-wise training kernels to code compiled for AVX-512 or AVX2.
//!
//! The crate is built for baseline x86-64 (SSE2), where LLVM vectorises the dropout, the
//! activations and Adam only 4 lanes wide. A [`Kernel`] run through [`dispatch`] is inlined
//! into a function compiled with the wider instruction set when the CPU has it. The kernels
//! are element-wise or keep their own fixed accumulation order, and Rust never fuses a
//! multiply and an add on its own, so every path computes bit-identical results (checked by
//! the test below on whole training runs).

/// A unit of element-wise work; `run` must be `#[inline(always)]` so that it is compiled
/// inside the wrappers below.
pub(crate) trait Kernel {
    /// What the kernel returns.
    type Output;
    /// Does the work.
    fn run(self) -> Self::Output;
}

/// Instruction sets a kernel can be compiled for, narrowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// The build target (SSE2 on x86-64).
    Baseline,
    /// AVX2.
    Avx2,
    /// AVX-512 F/BW/DQ/VL.
    Avx512,
}

/// The widest level this CPU supports.
fn detected() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            return Level::Avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            return Level::Avx2;
        }
    }
    Level::Baseline
}

#[cfg(test)]
thread_local! {
    /// Tests cap the level on their own thread to compare the paths.
    static CAP: std::cell::Cell<Level> = const { std::cell::Cell::new(Level::Avx512) };
}

/// Runs `kernel` with the widest vector instruction set the CPU supports.
#[inline(always)]
pub(crate) fn dispatch<K: Kernel>(kernel: K) -> K::Output {
    let level = detected();
    #[cfg(test)]
    let level = level.min(CAP.with(|c| c.get()));
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `run_avx512` requires exactly the features `detected` found.
        Level::Avx512 => unsafe { run_avx512(kernel) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `run_avx2` requires AVX2, which `detected` found.
        Level::Avx2 => unsafe { run_avx2(kernel) },
        _ => kernel.run(),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl")]
fn run_avx512<K: Kernel>(kernel: K) -> K::Output {
    kernel.run()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn run_avx2<K: Kernel>(kernel: K) -> K::Output {
    kernel.run()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::data::Targets;
    use crate::fit::grid::{Config, Schedule};
    use crate::fit::runs::{holdout_run, EvalSet};
    use crate::fit::train::Problem;
    use crate::head::HeadLayout;
    use crate::head::{Activation, UeSpec};
    use ndarray::Array2;

    /// A whole training run (dropout masks, activations, row kernels, loss, L2-SP, Adam) gives
    /// the same bits on every instruction set this CPU has.
    #[test]
    fn every_level_trains_to_the_same_bits() {
        let (n, d) = (300, 40);
        let x = Array2::from_shape_fn((n, d), |(i, j)| ((i * 31 + j * 17) % 23) as f32 / 7.0 - 1.5);
        let targets = Targets {
            errors: (0..n).map(|i| i % 5 == 0).collect(),
            e: (0..n).map(|i| f32::from(u8::from(i % 5 == 0))).collect(),
            u_sr: (0..n).map(|i| (i % 7) as f32 / 10.0).collect(),
        };
        let archs = [
            HeadLayout::linear(d, 3, true),
            HeadLayout::dense(d, 24, 4, Activation::Tanh),
            HeadLayout::dense(d, 24, 2, Activation::Gelu),
        ];
        let one_cycle = Config {
            index: 0,
            alpha: 0.3,
            beta: 0.1,
            lr: 1e-2,
            lambda: 100.0,
            epochs: 3,
            schedule: Schedule::OneCycle,
        };
        let full_batch = Config {
            lambda: 30.0,
            epochs: 12,
            schedule: Schedule::FullBatch,
            ..one_cycle
        };
        let val = EvalSet {
            x: x.view(),
            rows: None,
            errors: targets.errors.clone(),
        };
        for (arch, cfg) in archs
            .into_iter()
            .flat_map(|a| [(a, one_cycle), (a, full_batch)])
        {
            let theta0: Vec<f32> = (0..arch.num_params())
                .map(|i| ((i * 13) % 19) as f32 / 40.0 - 0.2)
                .collect();
            let problem = Problem {
                arch,
                theta0: &theta0,
                train_x: x.view(),
                train: &targets,
                spec: UeSpec::paper(),
                batch_size: 64,
                dropout: 0.1,
                balanced: false,
                seed: 3,
            };
            let levels: Vec<Level> = [Level::Baseline, Level::Avx2, Level::Avx512]
                .into_iter()
                .filter(|&l| l <= detected())
                .collect();
            let runs: Vec<_> = levels
                .iter()
                .map(|&level| {
                    CAP.with(|c| c.set(level));
                    let r = holdout_run(&problem, &cfg, &val, 5);
                    CAP.with(|c| c.set(Level::Avx512));
                    r
                })
                .collect();
            assert_ne!(
                runs[0].theta, theta0,
                "{arch:?}: training moved the weights"
            );
            for (level, r) in levels.iter().zip(&runs).skip(1) {
                let same = r
                    .theta
                    .iter()
                    .zip(&runs[0].theta)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "{arch:?}: {level:?} differs from the baseline build");
                assert_eq!(r.result, runs[0].result, "{arch:?}: {level:?}");
            }
        }
    }
}
