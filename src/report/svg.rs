//! Minimal inline-SVG charts (no scripts, no external resources).

use std::fmt::Write;

/// Colours of successive series.
pub const PALETTE: [&str; 6] = [
    "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// Escapes text for HTML / SVG content and attribute values.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A rectangular plot area mapping data coordinates to pixels.
#[derive(Debug, Clone)]
pub struct Plot {
    /// Width of the whole SVG.
    pub width: f64,
    /// Height of the whole SVG.
    pub height: f64,
    /// Data range on x.
    pub x: (f64, f64),
    /// Data range on y.
    pub y: (f64, f64),
    /// Where to put the x ticks; five evenly spaced ticks when `None`.
    pub x_ticks: Option<Vec<f64>>,
}

const LEFT: f64 = 52.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 42.0;

impl Plot {
    /// Pixel x of a data x.
    pub fn px(&self, x: f64) -> f64 {
        let (lo, hi) = self.x;
        LEFT + (x - lo) / (hi - lo) * (self.width - LEFT - RIGHT)
    }

    /// Pixel y of a data y.
    pub fn py(&self, y: f64) -> f64 {
        let (lo, hi) = self.y;
        self.height - BOTTOM - (y - lo) / (hi - lo) * (self.height - TOP - BOTTOM)
    }

    /// Opens the SVG and draws the title, frame, ticks and axis labels.
    pub fn open(&self, title: &str, x_label: &str, y_label: &str) -> String {
        let mut s = String::new();
        let (w, h) = (self.width, self.height);
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{t}">"#,
            t = escape(title)
        );
        let _ = write!(
            s,
            r#"<rect x="0" y="0" width="{w}" height="{h}" fill="white"/><text x="{cx}" y="17" text-anchor="middle" font-size="13" font-weight="bold">{t}</text>"#,
            cx = w / 2.0,
            t = escape(title)
        );
        let (x0, x1, y0, y1) = (
            self.px(self.x.0),
            self.px(self.x.1),
            self.py(self.y.0),
            self.py(self.y.1),
        );
        let _ = write!(
            s,
            r##"<rect x="{x0:.1}" y="{y1:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#444"/>"##,
            x1 - x0,
            y0 - y1
        );
        let even = |lo: f64, hi: f64| (0..=4).map(move |k| lo + k as f64 / 4.0 * (hi - lo));
        let x_ticks: Vec<f64> = match &self.x_ticks {
            Some(t) => t.clone(),
            None => even(self.x.0, self.x.1).collect(),
        };
        for xv in x_ticks {
            let px = self.px(xv);
            let _ = write!(
                s,
                r##"<line x1="{px:.1}" y1="{y0:.1}" x2="{px:.1}" y2="{:.1}" stroke="#444"/><text x="{px:.1}" y="{:.1}" text-anchor="middle" font-size="10">{}</text>"##,
                y0 + 4.0,
                y0 + 15.0,
                tick(xv)
            );
        }
        for yv in even(self.y.0, self.y.1) {
            let py = self.py(yv);
            let _ = write!(
                s,
                r##"<line x1="{:.1}" y1="{py:.1}" x2="{x0:.1}" y2="{py:.1}" stroke="#444"/><line x1="{x0:.1}" y1="{py:.1}" x2="{x1:.1}" y2="{py:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="10">{}</text>"##,
                x0 - 4.0,
                x0 - 6.0,
                py + 3.5,
                tick(yv)
            );
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text><text x="12" y="{:.1}" text-anchor="middle" font-size="11" transform="rotate(-90 12 {:.1})">{}</text>"#,
            (x0 + x1) / 2.0,
            h - 8.0,
            escape(x_label),
            (y0 + y1) / 2.0,
            (y0 + y1) / 2.0,
            escape(y_label)
        );
        s
    }

    /// A polyline through data points.
    pub fn polyline(&self, points: &[(f64, f64)], color: &str, dashed: bool) -> String {
        let pts: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", self.px(x), self.py(y)))
            .collect();
        format!(
            r#"<polyline fill="none" stroke="{color}" stroke-width="1.8"{} points="{}"/>"#,
            if dashed {
                r#" stroke-dasharray="4 3""#
            } else {
                ""
            },
            pts.join(" ")
        )
    }

    /// A legend box in the top-left (or, with `right`, top-right) corner of the plot area.
    pub fn legend(&self, entries: &[(&str, &str)], right: bool) -> String {
        let mut s = String::new();
        let width = 24.0 + 6.5 * entries.iter().map(|e| e.0.len()).max().unwrap_or(0) as f64;
        let x = if right {
            self.px(self.x.1) - 8.0 - width
        } else {
            self.px(self.x.0) + 8.0
        };
        let y = self.py(self.y.1) + 8.0;
        for (i, (name, color)) in entries.iter().enumerate() {
            let yy = y + 14.0 * i as f64;
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{yy:.1}" width="10" height="10" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
                x + 14.0,
                yy + 9.0,
                escape(name)
            );
        }
        s
    }
}

/// A tick label: up to 3 decimals, trailing zeros trimmed.
fn tick(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}
