//! The human summary of a report: plain-text tables for a terminal.

use std::fmt::Write;

use super::format::{
    estimate, general, selected, selection_biased_note, selection_note, selection_score_label,
    signed_estimate, value,
};
use super::model::{CalibrationEstimates, Report};

/// Renders the summary (`report --fit DIR`): the selected configuration, then per split
/// the method × metric table with 95% intervals, calibration before and after temperature
/// scaling, the paired comparisons, and the baselines' fitting details.
pub fn render_summary(r: &Report) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail; results are ignored with `let _`.
    let _ = writeln!(
        out,
        "{} {} report (schema {}), seed {}",
        r.tool.name, r.tool.version, r.schema_version, r.seed
    );
    let [alpha, beta, lr, epochs, best, lambda, auc] = selected(&r.fit.selected);
    let _ = writeln!(
        out,
        "selected: alpha={alpha} beta={beta} lr={lr} lambda={lambda} {} epochs={epochs} (kept {best}); {} {auc} (grid of {})",
        r.fit.selected.schedule,
        selection_score_label(&r.fit),
        r.fit.grid.len()
    );
    let _ = writeln!(out, "{}", selection_note(&r.fit));
    for (split, d) in &r.evaluation.data {
        let _ = writeln!(
            out,
            "\n== {split}: {} rows, {} errors ({:.1}%), {} classes present",
            d.rows,
            d.errors,
            100.0 * d.error_rate.get(),
            d.classes_present
        );
        table_row(
            &mut out,
            "method",
            [
                "ROC-AUC [95% CI]",
                "AURC [95% CI]",
                "E-AURC [95% CI]",
                "PRR [95% CI]",
            ],
        );
        let mut notes = Vec::new();
        for (m, per_split) in &r.evaluation.methods {
            let Some(mm) = per_split.get(split) else {
                continue;
            };
            let name = match selection_biased_note(r, &format!("methods.{m}.{split}")) {
                Some(note) => format!("{m} ({note})"),
                None => m.clone(),
            };
            table_row(
                &mut out,
                &name,
                [&mm.roc_auc, &mm.aurc, &mm.e_aurc, &mm.prr].map(estimate),
            );
            for (name, e) in [("ROC-AUC", &mm.roc_auc), ("PRR", &mm.prr)] {
                if let Some(why) = &e.reason {
                    notes.push(format!("{m} {name}: {why}"));
                }
            }
        }
        notes.dedup();
        for n in notes {
            let _ = writeln!(out, "  note: {n}");
        }
        if let Some(c) = r.evaluation.calibration.get(split) {
            out.push('\n');
            table_row(
                &mut out,
                "calibration",
                ["accuracy", "ECE (15 bins)", "debiased ECE", "adaptive ECE"],
            );
            let row = |out: &mut String, name: &str, m: &CalibrationEstimates| {
                table_row(
                    out,
                    name,
                    [&m.accuracy, &m.ece, &m.ece_debiased, &m.adaptive_ece].map(estimate),
                );
                let _ = writeln!(
                    out,
                    "{:<24} MCE {:<22} Brier {:<20} NLL {}",
                    "",
                    value(m.mce.value),
                    estimate(&m.brier),
                    estimate(&m.nll)
                );
            };
            row(&mut out, "original", &c.original);
            let t = format!("T = {}", general(c.temperature.value.get()));
            match (&c.temperature.metrics, &c.temperature.reason) {
                (Some(m), _) => row(&mut out, &t, m),
                (None, why) => {
                    let _ = writeln!(out, "{t:<24} {}", why.as_deref().unwrap_or("not reported"));
                }
            }
        }
        for (name, per_split) in &r.evaluation.comparisons {
            if let Some(c) = per_split.get(split) {
                let note = selection_biased_note(r, &format!("comparisons.{name}.{split}"))
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "\n{name}: ROC-AUC difference (paired) {}{note}",
                    signed_estimate(&c.roc_auc_diff)
                );
            }
        }
    }
    let b = &r.evaluation.baselines;
    let _ = writeln!(out);
    for md in std::iter::once(&b.mahalanobis).chain(b.mahalanobis_hidden.as_ref()) {
        let _ = writeln!(
            out,
            "mahalanobis ({}, D={}, {} rows of `{}`): jitter {} (relative {}), condition estimate {}",
            md.features,
            md.dim,
            md.train_rows,
            md.train_split,
            general(md.within.jitter.get()),
            general(md.within.relative_jitter.get()),
            general(md.within.condition_number.get())
        );
        if let Some(bg) = &md.background {
            let _ = writeln!(
                out,
                "  background Gaussian (relative Mahalanobis): jitter {}, condition estimate {}",
                general(bg.jitter.get()),
                general(bg.condition_number.get())
            );
        }
    }
    let t = &b.temperature_scaling;
    let _ = writeln!(
        out,
        "temperature scaling on `{}`: T = {} ({}), NLL {} -> {}",
        t.fitted_on,
        general(t.temperature.get()),
        t.status,
        general(t.nll_before.get()),
        general(t.nll_after.get())
    );
    let _ = writeln!(
        out,
        "intervals: {} bootstrap resamples, seed {}, {}",
        r.evaluation.bootstrap.resamples,
        r.evaluation.bootstrap.seed,
        r.evaluation.bootstrap.method
    );
    out
}

/// One row of the summary's four-column tables: a 24-wide name, then 26-wide cells.
fn table_row<S: AsRef<str>>(out: &mut String, name: &str, cells: [S; 4]) {
    let _ = write!(out, "{name:<24}");
    for c in &cells {
        let _ = write!(out, " {:<26}", c.as_ref());
    }
    out.push('\n');
}
