//! `report`: the summary table of a fit directory on stdout, and optionally the
//! self-contained HTML page.

use anyhow::Context;

use super::fit_dir::{FitDir, REPORT, SCORES};
use super::Outcome;
use crate::load::{read_capped, MAX_MODEL_BYTES};
use crate::output::write_atomic;
use crate::report::{render_html, render_summary, Curves, Report};
use crate::score::scores_file::scores_from_bytes;
use crate::settings::{Printer, ReportSettings};

/// Runs `report`.
pub fn run(args: &ReportSettings, printer: &Printer) -> anyhow::Result<Outcome> {
    let dir = FitDir::new(&args.fit);
    if let Some(html) = &args.html {
        dir.refuse_overwrite("--html", html)?;
    }
    let report = Report::read(&dir.path(REPORT))?;
    print!("{}", render_summary(&report));
    if let Some(html) = &args.html {
        let path = dir.path(SCORES);
        let bytes = read_capped(&path, MAX_MODEL_BYTES)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let scores = scores_from_bytes(&bytes).with_context(|| format!("{}", path.display()))?;
        let curves = Curves::preferred(&scores)
            .with_context(|| format!("{}: no split with scores to plot", path.display()))?;
        write_atomic(html, render_html(&report, &curves).as_bytes())?;
        printer.stage(format!("report: wrote {}", html.display()));
    }
    Ok(Outcome::Success)
}
