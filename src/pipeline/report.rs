//! `report`: the summary table of a fit directory on stdout, and optionally the
//! self-contained HTML page.

use anyhow::Context;

use super::Outcome;
use crate::fit_dir::{FitDir, SCORES};
use crate::output::write_atomic;
use crate::report::{render_html, render_summary, Curves};
use crate::settings::{Printer, ReportSettings};

/// Runs `report`.
pub fn run(args: &ReportSettings, printer: &Printer) -> anyhow::Result<Outcome> {
    let dir = FitDir::new(&args.fit);
    if let Some(html) = &args.html {
        dir.refuse_overwrite("--html", html)?;
    }
    let report = dir.report()?;
    print!("{}", render_summary(&report));
    if let Some(html) = &args.html {
        let scores = dir.scores()?;
        let curves = Curves::preferred(&scores).with_context(|| {
            format!(
                "{}: no split with scores to plot",
                dir.path(SCORES).display()
            )
        })?;
        write_atomic(html, render_html(&report, &curves).as_bytes())?;
        printer.stage(format!("report: wrote {}", html.display()));
    }
    Ok(Outcome::Success)
}
