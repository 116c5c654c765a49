//! Fuzz target `head_locator`: see `drivers::head_locator`.
#![no_main]

#[path = "../drivers.rs"]
#[allow(dead_code)]
mod drivers;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = drivers::head_locator(data);
});
