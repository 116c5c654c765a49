//! Integration tests.

mod load_checkpoint;
mod load_features;
mod load_support;
