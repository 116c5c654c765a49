//! Fuzz target `onnx_model`: see `drivers::onnx_model`.
#![no_main]

#[path = "../drivers.rs"]
#[allow(dead_code)]
mod drivers;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = drivers::onnx_model(data);
});
