//! The output mode: stage lines and progress on stderr, results on stdout.

use std::io::IsTerminal;

/// Where progress goes. Results are printed on stdout by the caller; everything a
/// human watches (stage lines, progress bars) goes to stderr and `--quiet` silences it.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    quiet: bool,
}

impl Printer {
    /// A printer; `quiet` silences stage lines and progress bars.
    pub fn new(quiet: bool) -> Self {
        Printer { quiet }
    }

    /// Whether output on stderr is silenced.
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// Whether progress bars should be drawn: not quiet and stderr is a terminal.
    pub fn progress_bars(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// A stage line such as `fit: 48 configurations on 2 threads`.
    pub fn stage(&self, msg: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    /// A warning: something the user should act on although the run goes on. Printed on
    /// stderr even with `--quiet`, which only silences progress.
    pub fn warn(&self, msg: impl std::fmt::Display) {
        eprintln!("warning: {msg}");
    }
}
