//! Integration tests.

mod fit_optim;
