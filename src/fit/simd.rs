//! Runtime dispatch of the element-wise training kernels to code compiled for AVX-512 or AVX2.
//!
//! The crate is built for baseline x86-64 (SSE2), where LLVM vectorises the dropout, the
//! activations and Adam only 4 lanes wide. A [`Kernel`] run through [`dispatch`] is inlined
//! into a function compiled with the wider instruction set when the CPU has it. The kernels
//! are element-wise or keep their own fixed accumulation order, and Rust never fuses a
//! multiply and an add on its own, so every path computes bit-identical results.

/// A unit of element-wise work; `run` must be `#[inline(always)]` so that it is compiled
/// inside the wrappers below.
pub(crate) trait Kernel {
    /// What the kernel returns.
    type Output;
    /// Does the work.
    fn run(self) -> Self::Output;
}

/// Runs `kernel` with the widest vector instruction set the CPU supports.
#[inline(always)]
pub(crate) fn dispatch<K: Kernel>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: `run_avx512` requires exactly the four features detected just above.
            return unsafe { run_avx512(kernel) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: `run_avx2` requires AVX2, detected just above.
            return unsafe { run_avx2(kernel) };
        }
    }
    kernel.run()
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
