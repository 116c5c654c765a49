//! The text summary and the self-contained HTML page.

use std::path::{Path, PathBuf};
use std::process::Command;

use adue_compile::report::{render_html, render_summary, Curves};

use crate::report_support::case_report;

const FOUR: &str = "tests/golden/synthetic/synth-4class";

#[test]
fn summary_matches_its_snapshot() {
    let (report, _) = case_report(Path::new(FOUR), 1000);
    insta::assert_snapshot!("summary-synth-4class", render_summary(&report));
    let (report, _) = case_report(Path::new("tests/golden/synthetic/synth-degenerate"), 200);
    let s = render_summary(&report);
    assert!(
        s.contains("note: adue ROC-AUC: no prediction in split `test` is wrong"),
        "{s}"
    );
}

/// The page and the curves it draws for `case`.
fn page(dir: &str) -> (String, Curves) {
    let (report, eval) = case_report(Path::new(dir), 200);
    let curves = Curves::preferred(&eval.scores).unwrap();
    (render_html(&report, &curves), curves)
}

#[test]
fn html_is_self_contained_and_has_every_part() {
    let (html, curves) = page(FOUR);
    assert!(html.starts_with("<!DOCTYPE html>"));
    // No script and nothing fetched: the only URL is the SVG namespace identifier.
    for forbidden in ["<script", " src=", " href=", "url(", "@import", "https://"] {
        assert!(!html.contains(forbidden), "found {forbidden}");
    }
    assert_eq!(
        html.matches("http://").count(),
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
    // Grid chart, two reliability diagrams, risk–coverage.
    assert_eq!(html.matches("<svg").count(), 4);
    assert_eq!(html.matches("</svg>").count(), 4);
    for part in [
        "Reliability, original",
        "Reliability, temperature-scaled",
        "Risk–coverage (test)",
        "Selection score (error ROC-AUC) per grid configuration",
        "adue_vs_softmax_response",
        "relative_mahalanobis",
        "adaptive ECE",
    ] {
        assert!(html.contains(part), "missing {part}");
    }
    // Three risk–coverage curves (AdUE, softmax response, Mahalanobis), one per method.
    let names: Vec<&str> = curves
        .risk_coverage
        .iter()
        .map(|(m, _)| m.as_str())
        .collect();
    assert_eq!(names, ["adue", "softmax_response", "mahalanobis"]);
    assert_eq!(html.matches("<polyline").count(), 2 + 3);
}

#[test]
fn text_from_the_report_is_escaped() {
    let (mut report, eval) = case_report(Path::new(FOUR), 20);
    let m = report.evaluation.methods.remove("entropy").unwrap();
    report
        .evaluation
        .methods
        .insert("<img onerror=x>".into(), m);
    let html = render_html(&report, &Curves::preferred(&eval.scores).unwrap());
    assert!(!html.contains("<img"));
    assert!(html.contains("&lt;img onerror=x&gt;"));
}

fn chromium() -> Option<PathBuf> {
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    })
}

/// Screenshot of `html` at 1280×2600 by headless Chromium; the PNG's bytes.
fn screenshot(browser: &Path, dir: &Path, name: &str, html: &str) -> Vec<u8> {
    let page = dir.join(format!("{name}.html"));
    let png = dir.join(format!("{name}.png"));
    std::fs::write(&page, html).unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg("--window-size=1280,2600")
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        png.exists(),
        "no screenshot; chromium said:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&png).unwrap()
}

#[test]
fn renders_non_blank_in_headless_chromium() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no chromium / chrome on PATH (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (html, _) = page(FOUR);
    let ours = screenshot(&browser, dir.path(), "report", &html);
    let blank = screenshot(
        &browser,
        dir.path(),
        "blank",
        "<!DOCTYPE html><html><body></body></html>",
    );
    assert_eq!(&ours[1..4], b"PNG");
    // Without a PNG decoder: a blank page of the same size compresses to almost nothing;
    // tables, text and charts do not.
    assert!(
        ours.len() > 10 * blank.len(),
        "screenshot {} bytes vs blank page {} bytes",
        ours.len(),
        blank.len()
    );
    if let Ok(keep) = std::env::var("ADUE_KEEP_SCREENSHOT") {
        std::fs::write(keep, &ours).unwrap();
    }
}
