//! Monte-Carlo studies of the tool's statistics on its own library functions (not a test;
//! `harness = false`):
//!
//! ```text
//! cargo bench --bench stats -- [gate|certificate|ece|all] [--draws 2000] [--out bench/stats]
//! ```
//! - `gate`: the `validate --baseline` non-inferiority gate: false alarms and power over the
//!   correlation of the two runs' scores, paired and unpaired, and the gate it replaced;
//! - `certificate`: the certified threshold after selection among K scorers (same rows vs
//!   untouched calibration rows) and under awkward risk curves;
//! - `ece`: coverage of the ECE intervals (plug-in, debiased, adaptive × percentile, basic,
//!   BCa).
//!
//! Prints markdown tables and writes `rust_<study>.json` into `--out`. Deterministic for a
//! given `--draws` (every draw seeds its own generator).

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use serde_json::{json, Value};

#[path = "stats_sim/mod.rs"]
mod stats_sim;
use stats_sim::{certificate, ece, gate};

#[derive(Parser)]
struct Args {
    /// `gate`, `certificate`, `ece` or `all`.
    #[arg(default_value = "all")]
    study: String,
    /// Draws per setting (the restart study uses max(draws, 5000)).
    #[arg(long, default_value_t = 2000)]
    draws: usize,
    /// Where the JSON results go.
    #[arg(long, default_value = "bench/stats")]
    out: PathBuf,
    /// Ignored (cargo bench passes `--bench`).
    #[arg(long, hide = true)]
    bench: bool,
}

fn gate_study(draws: usize) -> Value {
    let mut rows = Vec::new();
    println!("\n## Gate: paired DeLong, margin 0.01, AUC_old 0.87, error rate 0.15\n");
    println!("| n | rho | paired SE | sd(D) | fail, drop 0 | fail, drop 0.01 (= margin) | fail, drop 0.02 |");
    println!("|---|---|---|---|---|---|---|");
    let mut seed = 100;
    for n in [400, 600] {
        for rho in [0.9, 0.95, 0.98, 0.99, 0.995, 0.997, 0.999, 1.0] {
            let mut cells = Vec::new();
            let mut se = 0.0;
            let mut sd = 0.0;
            for drop in [0.0, 0.01, 0.02] {
                seed += 1;
                let s = gate::GateSetting {
                    n,
                    pi: 0.15,
                    auc_old: 0.87,
                    drop,
                    rho,
                    margin: 0.01,
                    paired: true,
                };
                let o = gate::simulate(&s, draws, seed);
                if drop == 0.0 {
                    (se, sd) = (o.mean_se, o.sd_d);
                }
                cells.push(format!("{:.1}%", 100.0 * o.fail_rate));
                rows.push(json!({"n": n, "rho": rho, "drop": drop, "paired": true, "seed": seed, "outcome": o}));
            }
            println!(
                "| {n} | {rho} | {se:.4} | {sd:.4} | {} |",
                cells.join(" | ")
            );
        }
    }
    println!("\n## Gate: unpaired (different test rows), margin 0.01\n");
    println!("| n | SE | fail, drop 0 | fail, drop 0.02 | fail, drop 0.05 |");
    println!("|---|---|---|---|---|");
    for n in [400, 600] {
        let mut cells = Vec::new();
        let mut se = 0.0;
        for drop in [0.0, 0.02, 0.05] {
            seed += 1;
            let s = gate::GateSetting {
                n,
                pi: 0.15,
                auc_old: 0.87,
                drop,
                rho: 0.0,
                margin: 0.01,
                paired: false,
            };
            let o = gate::simulate(&s, draws, seed);
            if drop == 0.0 {
                se = o.mean_se;
            }
            cells.push(format!("{:.1}%", 100.0 * o.fail_rate));
            rows.push(json!({"n": n, "drop": drop, "paired": false, "seed": seed, "outcome": o}));
        }
        println!("| {n} | {se:.4} | {} |", cells.join(" | "));
    }
    println!("\n## The gate it replaced (new AUC below the old run's own 2.5% bootstrap bound), n 400, rho 0.99\n");
    println!("| drop | fail |");
    println!("|---|---|");
    for drop in [0.0, 0.021, 0.034] {
        seed += 1;
        let s = gate::GateSetting {
            n: 400,
            pi: 0.15,
            auc_old: 0.87,
            drop,
            rho: 0.99,
            margin: 0.01,
            paired: true,
        };
        let f = gate::simulate_previous_gate(&s, draws, seed, 1000);
        println!("| {drop} | {:.1}% |", 100.0 * f);
        rows.push(json!({"previous_gate": true, "n": 400, "rho": 0.99, "drop": drop, "seed": seed, "draws": draws, "resamples": 1000, "fail_rate": f}));
    }
    Value::Array(rows)
}

fn certificate_study(draws: usize) -> Value {
    let mut sel = Vec::new();
    println!("\n## Certificate after selection: R 0.08, delta 0.1, 400 selection rows, 400 calibration rows, restarts from 1000 reference rows\n");
    println!(
        "| K | selection AUC sd | same rows: fail / certified | fresh 400 rows | halves 200/200 |"
    );
    println!("|---|---|---|---|---|");
    for k in [1, 18, 90, 360] {
        let s = certificate::SelectionSetting::review(k);
        let o = certificate::selection(&s, draws, 1000 + k as u64);
        let f = |r: certificate::Rates| {
            format!("{:.1}% / {:.1}%", 100.0 * r.failure, 100.0 * r.certified)
        };
        println!(
            "| {k} | {:.4} | {} | {} | {} |",
            o.selection_auc_sd,
            f(o.same_rows),
            f(o.fresh_rows),
            f(o.split_halves)
        );
        sel.push(json!({"setting": s, "seed": 1000 + k as u64, "outcome": o}));
    }
    let n = draws.max(5000);
    println!("\n## Restarts at fixed thresholds: U ~ Uniform(0, 1), 400 calibration rows, R 0.08, delta 0.1, {n} draws\n");
    println!("| p(error given u) | fail | certified |");
    println!("|---|---|---|");
    let mut prof = Vec::new();
    for (i, p) in certificate::PROFILES.iter().enumerate() {
        let r = certificate::restarts(p, 400, 0.08, 0.1, n, 7 + i as u64);
        println!(
            "| {} | {:.2}% | {:.1}% |",
            p.name,
            100.0 * r.failure,
            100.0 * r.certified
        );
        prof.push(json!({"profile": p.name, "draws": n, "seed": 7 + i as u64, "rates": r}));
    }
    json!({"selection": sel, "restarts": prof})
}

fn ece_study(draws: usize) -> Value {
    let mut out = Vec::new();
    println!("\n## ECE interval coverage (95% nominal), 1000 resamples\n");
    let stats: Vec<&str> = ece::STATISTICS.iter().map(|s| s.0).collect();
    let methods: Vec<&str> = ece::METHODS.iter().map(|m| m.as_str()).collect();
    let mut header = vec!["n".to_string(), "true ECE (equal-mass)".to_string()];
    for s in &stats {
        for m in &methods {
            header.push(format!("{s}/{m}"));
        }
    }
    println!("| {} |", header.join(" | "));
    println!("|{}", "---|".repeat(header.len()));
    for (i, (n, power)) in [(400, 1.0), (400, 1.38), (400, 1.8), (400, 2.2), (600, 1.8)]
        .into_iter()
        .enumerate()
    {
        let o = ece::coverage(n, power, draws, 1000, 500 + i as u64);
        let mut cells = vec![
            n.to_string(),
            format!("{:.4} ({:.4})", o.true_ece, o.true_adaptive_ece),
        ];
        for s in &stats {
            for m in &methods {
                cells.push(format!("{:.1}%", 100.0 * o.coverage[&format!("{s}/{m}")]));
            }
        }
        println!("| {} |", cells.join(" | "));
        out.push(json!({"seed": 500 + i as u64, "outcome": o}));
    }
    Value::Array(out)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let all = args.study == "all";
    let write = |name: &str, v: &Value| -> Result<()> {
        std::fs::create_dir_all(&args.out)?;
        let path = args.out.join(format!("rust_{name}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(v)? + "\n")?;
        eprintln!("wrote {}", path.display());
        Ok(())
    };
    if all || args.study == "gate" {
        write(
            "gate",
            &json!({"draws": args.draws, "rows": gate_study(args.draws)}),
        )?;
    }
    if all || args.study == "certificate" {
        write(
            "certificate",
            &json!({"draws": args.draws, "results": certificate_study(args.draws)}),
        )?;
    }
    if all || args.study == "ece" {
        write(
            "ece",
            &json!({"draws": args.draws, "results": ece_study(args.draws)}),
        )?;
    }
    Ok(())
}
