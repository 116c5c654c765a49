//! Fuzz target `adapter_config`: see `drivers::adapter_config`.
#![no_main]

#[path = "../drivers.rs"]
#[allow(dead_code)]
mod drivers;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = drivers::adapter_config(data);
});
