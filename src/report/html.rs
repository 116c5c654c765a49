//! The self-contained HTML report: tables with intervals and inline-SVG charts (reliability
//! diagrams before/after temperature scaling, risk–coverage curves, the grid's validation
//! ROC-AUC). No script, no stylesheet or font from the network.

use std::fmt::Write;

use super::curves::{Curves, ReliabilityBin};
use super::format::{
    estimate, general, selected, selection_biased_note, selection_note, selection_score_label,
    signed_estimate, value,
};
use super::model::{CalibrationEstimates, Estimate, Report};
use super::svg::{escape, Plot, PALETTE};

const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1200px}\
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ccc}h3{font-size:15px}\
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}\
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.note{color:#666;font-size:12px}\
.charts{display:flex;flex-wrap:wrap;gap:16px}code{font-size:12px}table.text td,table.text th{text-align:left}";

/// Renders the whole page.
pub fn render_html(r: &Report, curves: &Curves) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>adue-compile report</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        h,
        "<h1>adue-compile report</h1><p>{} {} · schema {} · seed {} · bootstrap: {} resamples, {}</p>",
        escape(&r.tool.name),
        escape(&r.tool.version),
        escape(&r.schema_version),
        r.seed,
        r.evaluation.bootstrap.resamples,
        escape(&r.evaluation.bootstrap.method)
    );
    inputs(&mut h, r);
    fit(&mut h, r);
    for split in r.evaluation.data.keys() {
        split_tables(&mut h, r, split);
    }
    charts(&mut h, r, curves);
    baselines(&mut h, r);
    h.push_str("</body></html>\n");
    h
}

fn inputs(h: &mut String, r: &Report) {
    h.push_str(
        "<h2>Inputs</h2><table class=\"text\"><tr><th>input</th><th>path</th><th>SHA-256</th></tr>",
    );
    for (name, f) in &r.inputs {
        let _ = write!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            escape(name),
            escape(&f.path),
            escape(&f.sha256)
        );
    }
    h.push_str("</table>");
}

fn fit(h: &mut String, r: &Report) {
    let [alpha, beta, lr, epochs, best, lambda, auc] = selected(&r.fit.selected);
    let _ = write!(
        h,
        "<h2>Fit</h2><p>Selected (configuration {} of {}): α = {alpha}, β = {beta}, lr = {lr}, λ = {lambda}, {} schedule of {epochs} (kept {best}); {} {auc}.</p><p>{}.</p>",
        r.fit.selected.grid_index + 1,
        r.fit.grid.len(),
        escape(&r.fit.selected.schedule),
        escape(&selection_score_label(&r.fit)),
        escape(&selection_note(&r.fit)),
    );
    h.push_str(&grid_chart(r));
}

/// ` (selection-biased)` when the report lists `path` as such, else nothing.
fn biased_label(r: &Report, path: &str) -> String {
    selection_biased_note(r, path)
        .map(|n| format!(" <i>({})</i>", escape(n)))
        .unwrap_or_default()
}

fn estimate_cell(e: &Estimate) -> String {
    match &e.reason {
        Some(why) => format!(
            "<td title=\"{}\">{}</td>",
            escape(why),
            escape(&estimate(e))
        ),
        None => format!("<td>{}</td>", escape(&estimate(e))),
    }
}

fn split_tables(h: &mut String, r: &Report, split: &str) {
    let d = &r.evaluation.data[split];
    let _ = write!(
        h,
        "<h2>Split <code>{}</code></h2><p>{} rows, {} errors ({:.1}%), {} classes present.</p>",
        escape(split),
        d.rows,
        d.errors,
        100.0 * d.error_rate.get(),
        d.classes_present
    );
    h.push_str("<table><tr><th>method</th><th>error ROC-AUC [95% CI]</th><th>AURC</th><th>E-AURC</th><th>PRR</th></tr>");
    let mut notes = Vec::new();
    for (m, per_split) in &r.evaluation.methods {
        if let Some(mm) = per_split.get(split) {
            let _ = write!(
                h,
                "<tr><td>{}{}</td>",
                escape(m),
                biased_label(r, &format!("methods.{m}.{split}"))
            );
            for e in [&mm.roc_auc, &mm.aurc, &mm.e_aurc, &mm.prr] {
                h.push_str(&estimate_cell(e));
                if let Some(why) = &e.reason {
                    notes.push(format!("{m}: {why}"));
                }
            }
            h.push_str("</tr>");
        }
    }
    h.push_str("</table>");
    notes.dedup();
    for n in notes {
        let _ = write!(h, "<p class=\"note\">{}</p>", escape(&n));
    }
    if let Some(c) = r.evaluation.calibration.get(split) {
        h.push_str("<h3>Calibration of the original head</h3><table><tr><th>probabilities</th><th>accuracy</th><th>ECE (15 bins)</th><th>debiased ECE</th><th>adaptive ECE</th><th>MCE (no interval)</th><th>Brier</th><th>NLL</th></tr>");
        let row = |h: &mut String, name: &str, m: &CalibrationEstimates| {
            let _ = write!(h, "<tr><td>{}</td>", escape(name));
            for e in [&m.accuracy, &m.ece, &m.ece_debiased, &m.adaptive_ece] {
                h.push_str(&estimate_cell(e));
            }
            let _ = write!(h, "<td>{}</td>", escape(&value(m.mce.value)));
            for e in [&m.brier, &m.nll] {
                h.push_str(&estimate_cell(e));
            }
            h.push_str("</tr>");
        };
        row(h, "original", &c.original);
        let t = format!(
            "temperature-scaled, T = {} (fitted on {})",
            general(c.temperature.value.get()),
            c.temperature.fitted_on
        );
        match (&c.temperature.metrics, &c.temperature.reason) {
            (Some(m), _) => row(h, &t, m),
            (None, why) => {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td colspan=\"7\">{}</td></tr>",
                    escape(&t),
                    escape(why.as_deref().unwrap_or("not reported"))
                );
            }
        }
        h.push_str("</table>");
    }
    for (name, per_split) in &r.evaluation.comparisons {
        if let Some(c) = per_split.get(split) {
            let _ = write!(
                h,
                "<p>{}: error ROC-AUC difference, paired bootstrap: <b>{}</b>{}</p>",
                escape(name),
                escape(&signed_estimate(&c.roc_auc_diff)),
                biased_label(r, &format!("comparisons.{name}.{split}"))
            );
        }
    }
}

fn reliability_chart(title: &str, bins: &[ReliabilityBin], color: &str) -> String {
    let p = Plot {
        width: 340.0,
        height: 320.0,
        x: (0.0, 1.0),
        y: (0.0, 1.0),
        x_ticks: None,
    };
    let mut s = p.open(title, "confidence (top-class probability)", "accuracy");
    s.push_str(&p.polyline(&[(0.0, 0.0), (1.0, 1.0)], "#888", true));
    for b in bins {
        let (Some(acc), Some(conf)) = (b.accuracy, b.confidence) else {
            continue;
        };
        let (x0, x1, y) = (p.px(b.lo), p.px(b.hi), p.py(acc));
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{color}" fill-opacity="0.55" stroke="{color}"><title>({:.3}, {:.3}]: {} samples, accuracy {:.3}, mean confidence {:.3}</title></rect>"#,
            x0 + 1.0,
            (x1 - x0 - 2.0).max(1.0),
            p.py(0.0) - y,
            b.lo,
            b.hi,
            b.count,
            acc,
            conf
        );
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="#222"/>"##,
            (x0 + x1) / 2.0,
            p.py(conf)
        );
    }
    s.push_str(&p.legend(
        &[("accuracy per bin", color), ("mean confidence", "#222")],
        false,
    ));
    s.push_str("</svg>");
    s
}

fn risk_coverage_chart(curves: &Curves) -> String {
    let max_risk = curves
        .risk_coverage
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| p.1))
        .fold(0.0f64, f64::max);
    let p = Plot {
        width: 420.0,
        height: 320.0,
        x: (0.0, 1.0),
        y: (0.0, (max_risk * 1.1).max(0.01)),
        x_ticks: None,
    };
    let mut s = p.open(
        &format!("Risk–coverage ({})", curves.split),
        "coverage",
        "selective risk",
    );
    let mut legend = Vec::new();
    for (i, (m, pts)) in curves.risk_coverage.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        s.push_str(&p.polyline(pts, color, false));
        legend.push((m.as_str(), color));
    }
    s.push_str(&p.legend(&legend, true));
    s.push_str("</svg>");
    s
}

fn grid_chart(r: &Report) -> String {
    let vals: Vec<Option<f64>> = r
        .fit
        .grid
        .iter()
        .map(|g| g.val_roc_auc.map(f64::from))
        .collect();
    let defined: Vec<f64> = vals.iter().flatten().copied().collect();
    let (lo, hi) = defined
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let (lo, hi) = if lo.is_finite() {
        ((lo - 0.01).max(0.0), (hi + 0.01).min(1.0))
    } else {
        (0.0, 1.0)
    };
    let n = vals.len().max(1);
    // Integer ticks (configuration numbers), at most about eight of them.
    let step = n.div_ceil(8).max(1);
    let p = Plot {
        width: 640.0,
        height: 280.0,
        x: (0.5, n as f64 + 0.5),
        y: (lo, if hi > lo { hi } else { lo + 0.02 }),
        x_ticks: Some((1..=n).step_by(step).map(|i| i as f64).collect()),
    };
    let mut s = p.open(
        "Selection score (error ROC-AUC) per grid configuration",
        "configuration (grid order)",
        "selection ROC-AUC",
    );
    for (i, (v, g)) in vals.iter().zip(&r.fit.grid).enumerate() {
        let Some(v) = v else { continue };
        let selected = i == r.fit.selected.grid_index;
        let _ = write!(
            s,
            r#"<circle cx="{:.1}" cy="{:.1}" r="{}" fill="{}"><title>#{}: α={} β={} lr={} epochs={} (best {}): {:.4}</title></circle>"#,
            p.px(i as f64 + 1.0),
            p.py(*v),
            if selected { 6 } else { 3 },
            if selected { PALETTE[0] } else { PALETTE[1] },
            i + 1,
            general(g.alpha.get()),
            general(g.beta.get()),
            general(g.lr.get()),
            g.epochs,
            g.best_epoch,
            v
        );
    }
    s.push_str(&p.legend(
        &[
            ("selected", PALETTE[0]),
            ("other configurations", PALETTE[1]),
        ],
        false,
    ));
    s.push_str("</svg>");
    s
}

fn charts(h: &mut String, r: &Report, curves: &Curves) {
    let _ = write!(
        h,
        "<h2>Charts (split <code>{}</code>)</h2><div class=\"charts\">",
        escape(&curves.split)
    );
    h.push_str(&reliability_chart(
        "Reliability, original",
        &curves.reliability,
        PALETTE[1],
    ));
    // On the split T was fitted on, the scaled diagram is in-sample (optimistic).
    let in_sample = r.evaluation.baselines.temperature_scaling.fitted_on == curves.split;
    h.push_str(&reliability_chart(
        if in_sample {
            "Reliability, temperature-scaled (in-sample: T fitted here)"
        } else {
            "Reliability, temperature-scaled"
        },
        &curves.reliability_ts,
        PALETTE[2],
    ));
    if !curves.risk_coverage.is_empty() {
        h.push_str(&risk_coverage_chart(curves));
    }
    h.push_str("</div>");
}

fn baselines(h: &mut String, r: &Report) {
    let b = &r.evaluation.baselines;
    h.push_str("<h2>Baselines</h2><table><tr><th>Gaussian</th><th>features</th><th>D</th><th>train rows</th><th>jitter</th><th>relative jitter</th><th>condition estimate</th><th>attempts</th></tr>");
    for md in std::iter::once(&b.mahalanobis).chain(b.mahalanobis_hidden.as_ref()) {
        let covs = std::iter::once(("within-class", &md.within))
            .chain(md.background.as_ref().map(|bg| ("background", bg)));
        for (name, c) in covs {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                name,
                escape(&md.features),
                md.dim,
                md.train_rows,
                general(c.jitter.get()),
                general(c.relative_jitter.get()),
                general(c.condition_number.get()),
                c.attempts
            );
        }
    }
    h.push_str("</table>");
    let _ = write!(
        h,
        "<p class=\"note\">Condition estimate: {}.</p>",
        escape(&b.mahalanobis.within.condition_method)
    );
    let t = &b.temperature_scaling;
    let _ = write!(
        h,
        "<p>Temperature scaling on <code>{}</code>: T = {} ({}), NLL {} → {}.</p>",
        escape(&t.fitted_on),
        general(t.temperature.get()),
        escape(&t.status),
        general(t.nll_before.get()),
        general(t.nll_after.get())
    );
}
