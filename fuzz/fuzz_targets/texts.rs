//! Fuzz target `texts`: see `drivers::texts`.
#![no_main]

#[path = "../drivers.rs"]
#[allow(dead_code)]
mod drivers;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = drivers::texts(data);
});
