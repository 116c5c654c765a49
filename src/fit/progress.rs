//! Progress bar over grid configurations, on stderr.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar counting `configurations`; hidden when `quiet` or when stderr is not a terminal.
pub(crate) fn bar(configurations: usize, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar =
        ProgressBar::with_draw_target(Some(configurations as u64), ProgressDrawTarget::stderr());
    // The template is a constant; should it ever fail to parse, the default style is kept.
    if let Ok(style) = ProgressStyle::with_template(
        "fit {bar:30.cyan/blue} {pos}/{len} configurations [{elapsed_precise} < {eta_precise}]",
    ) {
        bar.set_style(style);
    }
    bar
}
