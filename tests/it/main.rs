//! Integration tests.

mod export_crosscheck;
mod export_parity;
mod export_support;
mod export_threshold;
mod validate_checks;
