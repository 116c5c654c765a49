//! Number formatting shared by the text summary and the HTML page.

use super::fit_section::{FitSection, Selected};
use super::model::{Estimate, Report};
use super::real::Real;

/// `0.8123` or `n/a`.
pub fn value(v: Option<Real>) -> String {
    v.map_or_else(|| "n/a".to_string(), |r| format!("{:.4}", r.get()))
}

/// `0.8123 [0.7701, 0.8514]`, `0.8123 [n/a]` or `n/a`.
pub fn estimate(e: &Estimate) -> String {
    match (e.value, e.ci95) {
        (Some(v), Some([lo, hi])) => format!("{:.4} [{:.4}, {:.4}]", v.get(), lo.get(), hi.get()),
        (Some(v), None) => format!("{:.4} [n/a]", v.get()),
        (None, _) => "n/a".into(),
    }
}

/// `+0.0312 [+0.0101, +0.0524]` (signed), or `n/a`.
pub fn signed_estimate(e: &Estimate) -> String {
    match (e.value, e.ci95) {
        (Some(v), Some([lo, hi])) => {
            format!("{:+.4} [{:+.4}, {:+.4}]", v.get(), lo.get(), hi.get())
        }
        (Some(v), None) => format!("{:+.4} [n/a]", v.get()),
        (None, _) => "n/a".into(),
    }
}

/// `Some("selection-biased")` when the report lists the key path `path` under
/// `selection_biased`.
pub fn selection_biased_note(r: &Report, path: &str) -> Option<&'static str> {
    r.selection_biased
        .iter()
        .any(|p| p == path)
        .then_some("selection-biased")
}

/// A compact general number: `1.23e-7`, `0.25`, `1.5e4`.
pub fn general(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if (1e-3..1e4).contains(&x.abs()) {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{x:.2e}")
    }
}

/// The selected configuration as the summary and the HTML page print it:
/// `[α, β, lr, epochs, best epoch, λ, selection score]`.
pub fn selected(s: &Selected) -> [String; 7] {
    [
        general(s.alpha.get()),
        general(s.beta.get()),
        general(s.lr.get()),
        s.epochs.to_string(),
        s.best_epoch.to_string(),
        general(s.lambda.get()),
        value(s.val_roc_auc),
    ]
}

/// What the selection score is, for a reader: `5-fold CV mean held-out ROC-AUC` or
/// `validation ROC-AUC on 'val'`, always marked selection-biased.
pub fn selection_score_label(fit: &FitSection) -> String {
    let sel = &fit.selection;
    match &sel.cv {
        Some(cv) if cv.repeats > 1 => format!(
            "{}×{}-fold CV mean held-out ROC-AUC (selection-biased)",
            cv.repeats, cv.folds
        ),
        Some(cv) => format!(
            "{}-fold CV mean held-out ROC-AUC (selection-biased)",
            cv.folds
        ),
        None => format!("validation ROC-AUC on '{}' (selection-biased)", sel.split),
    }
}

/// One line on how the fit selected, refitted and what is left for calibration.
pub fn selection_note(fit: &FitSection) -> String {
    let sel = &fit.selection;
    let how = match &sel.refit {
        Some(r) => format!(
            "selected by {} on '{}' ({} rows, {} errors), refitted on {} rows for {} {}",
            sel.method,
            sel.split,
            sel.rows,
            sel.errors,
            r.rows,
            r.passes,
            if fit.selected.schedule == "full_batch" {
                "steps"
            } else {
                "epochs"
            }
        ),
        None => format!(
            "selected by {} on '{}' ({} rows, {} errors)",
            sel.method, sel.split, sel.rows, sel.errors
        ),
    };
    let cal = match &fit.calibration {
        Some(c) => format!(
            "calibration split '{}' ({} rows, from {})",
            c.split, c.rows, c.source
        ),
        None => "no calibration split (rows untouched by fitting and selection: none)".into(),
    };
    let biased = if sel.biased_splits.is_empty() {
        String::new()
    } else {
        format!(
            "; AdUE metrics selection-biased on: {}",
            sel.biased_splits.join(", ")
        )
    };
    format!("{how}; {cal}{biased}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let e = Estimate {
            value: Real::new(0.5),
            ci95: Real::new(0.25).zip(Real::new(0.75)).map(|(a, b)| [a, b]),
            ci_method: "percentile".into(),
            reason: None,
            skipped_resamples: 0,
        };
        assert_eq!(estimate(&e), "0.5000 [0.2500, 0.7500]");
        assert_eq!(signed_estimate(&e), "+0.5000 [+0.2500, +0.7500]");
        assert_eq!(value(None), "n/a");
        assert_eq!(general(1e-10), "1.00e-10");
        assert_eq!(general(0.25), "0.25");
        assert_eq!(general(0.0), "0");
    }
}
