//! Integration tests.

mod fit_engine;
mod fit_head_file;
mod fit_optim;
mod fit_support;
