//! Writes the models that bench/onnx_throughput.py times (not a test; ignored):
//! `ADUE_BENCH_DIR=out/bench cargo test --release --test it export_bench_models -- --ignored`

use adue_compile::export::export;

use super::export_support::{Case, Kind};

#[test]
#[ignore = "writes benchmark inputs; run by bench/onnx_throughput.py's instructions"]
fn export_bench_models() {
    let dir = std::path::PathBuf::from(
        std::env::var_os("ADUE_BENCH_DIR").expect("set ADUE_BENCH_DIR to the output directory"),
    );
    std::fs::create_dir_all(&dir).unwrap();
    for (name, kind, d, c, extras) in [
        ("linear-576x2", Kind::LinearNoBias, 576, 2, false),
        ("dense-tanh-768x4", Kind::DenseTanh, 768, 4, false),
        ("dense-gelu-768x5-full", Kind::DenseGelu, 768, 5, true),
    ] {
        let case = Case::new(kind, d, c, 256, extras, 42);
        export(&case.spec(), &dir.join(format!("{name}.onnx"))).unwrap();
        eprintln!("wrote {}", dir.join(format!("{name}.onnx")).display());
    }
}
