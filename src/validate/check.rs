//! One named validation check and its outcome.

use serde::Serialize;

/// The outcome of one check, printed as a table row by the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Dotted name, e.g. `parity.uncertainty`.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was measured or what went wrong.
    pub detail: String,
}

impl Check {
    /// A check with the given outcome.
    pub fn new(name: impl Into<String>, passed: bool, detail: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            passed,
            detail: detail.into(),
        }
    }

    /// A passed check.
    pub fn pass(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Check::new(name, true, detail)
    }

    /// A failed check.
    pub fn fail(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Check::new(name, false, detail)
    }
}

/// Whether every check passed (exit code 0 rather than 1).
pub fn all_passed(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.passed)
}
