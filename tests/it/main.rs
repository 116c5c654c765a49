//! One integration-test binary (as ripgrep does): shared helpers in `util`,
//! one module per concern.

mod util;

mod export_bench;
mod export_crosscheck;
mod export_fixtures;
mod export_parity;
mod export_support;
mod export_threshold;
mod load_checkpoint;
mod load_features;
mod load_support;
mod validate_checks;
