//! `validate --baseline OLD`: AdUE's test error ROC-AUC against a previous run's, by the
//! non-inferiority gate of [`crate::validate::gate`]. OLD is a fit directory, or its
//! `report.json` with `scores.safetensors` beside it. Only the test split is compared: the
//! validation split chose the configuration, so its AdUE metrics are selection-biased, and
//! a run without test scores is bad input (exit 2), never a silent fallback.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::fit_dir::{recorded_inputs_in, FitDir, REPORT, SCORES};
use crate::report::InputFile;
use crate::score::{method, SplitScores};
use crate::validate::gate::{non_inferiority, RunScores};
use crate::validate::Check;

/// The split the gate compares.
pub const GATE_SPLIT: &str = "test";

/// One run's recorded inputs and test scores.
pub struct GateRun {
    /// The run's `report.json`, for messages.
    report: PathBuf,
    /// Its recorded input files.
    inputs: BTreeMap<String, InputFile>,
    /// Its test scores.
    test: SplitScores,
}

/// `(report.json, fit directory)` of a `--baseline` argument.
fn locate(path: &Path) -> (PathBuf, PathBuf) {
    if path.is_dir() {
        (path.join(REPORT), path.to_path_buf())
    } else {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        (path.to_path_buf(), dir)
    }
}

impl GateRun {
    /// Reads a run for the gate: `which` is `baseline` or `new` (for messages), `path` a fit
    /// directory or its `report.json`.
    pub fn read(which: &str, path: &Path) -> anyhow::Result<Self> {
        let (report, dir) = locate(path);
        let inputs = recorded_inputs_in(&report)?;
        let dir = FitDir::new(&dir);
        let scores_path = dir.path(SCORES);
        let test = dir
            .split_scores(GATE_SPLIT)
            .with_context(|| format!("the {which} run of --baseline"))?
            .with_context(|| {
                format!(
                    "{}: the {which} run has no `{GATE_SPLIT}` scores; --baseline compares \
                     AdUE on the test split only (the validation split chose the \
                     configuration: its AdUE metrics are selection-biased), so both runs \
                     need `fit --test`",
                    scores_path.display()
                )
            })?;
        if !test.uncertainty.contains_key(method::ADUE) {
            bail!(
                "{}: the {which} run has no `{GATE_SPLIT}/u/{}` scores",
                scores_path.display(),
                method::ADUE
            );
        }
        Ok(GateRun {
            report,
            inputs,
            test,
        })
    }
}

/// Whether two runs scored the same rows, and the words for the check line.
fn same_rows(old: &GateRun, new: &GateRun) -> (bool, String) {
    let (o, n) = (&old.test, &new.test);
    let hash = |r: &GateRun| r.inputs.get(GATE_SPLIT).map(|f| f.sha256.clone());
    match (hash(old), hash(new)) {
        (Some(a), Some(b)) if a == b => {
            if o.labels == n.labels && o.errors == n.errors {
                let short = a.get(..12).unwrap_or(&a);
                let rows = n.errors.len();
                (
                    true,
                    format!("the same {rows} test rows (sha256 {short}…, equal labels and errors)"),
                )
            } else {
                (
                    false,
                    format!(
                        "the same test file (sha256 {}…) but different per-row labels or errors \
                         (the original head changed), so the rows are not paired: {} and {} rows",
                        a.get(..12).unwrap_or(&a),
                        o.errors.len(),
                        n.errors.len()
                    ),
                )
            }
        }
        (Some(_), Some(_)) => (
            false,
            format!(
                "different test files ({} and {} rows)",
                o.errors.len(),
                n.errors.len()
            ),
        ),
        _ => (
            false,
            format!(
                "test rows whose file hash is not recorded in {} or {} ({} and {} rows)",
                old.report.display(),
                new.report.display(),
                o.errors.len(),
                n.errors.len()
            ),
        ),
    }
}

/// The gate check of `new` against `old` at `margin`; errors (exit 2) when it cannot be
/// evaluated.
pub fn gate_check(old: &GateRun, new: &GateRun, margin: f64) -> anyhow::Result<Check> {
    let (paired, rows) = same_rows(old, new);
    let u = |r: &GateRun| r.test.uncertainty[method::ADUE].to_vec();
    let e = |r: &GateRun| r.test.errors.to_vec();
    let (uo, eo, un, en) = (u(old), e(old), u(new), e(new));
    let result = non_inferiority(
        RunScores {
            uncertainty: &uo,
            errors: &eo,
        },
        RunScores {
            uncertainty: &un,
            errors: &en,
        },
        paired,
        margin,
    )
    .with_context(|| format!("--baseline {}", old.report.display()))?;
    Ok(Check::new(
        format!("gate.{}.{GATE_SPLIT}.roc_auc", method::ADUE),
        result.passed,
        result.describe(&rows),
    ))
}
