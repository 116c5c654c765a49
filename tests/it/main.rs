//! One integration-test binary (as ripgrep does): shared helpers in `util`,
//! one module per concern.

mod util;

mod load_checkpoint;
mod load_features;
mod load_support;
