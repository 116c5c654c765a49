//! Settings: what each subcommand runs with, resolved and validated from the command line.
//!
//! `cli` parses the flags (clap) and resolves them into these types (ripgrep's low/high
//! arguments, uv's `settings.rs`): the grid is read, the thread count and the activation are
//! decided, the output mode ([`Printer`]) is fixed. `pipeline` takes only these, so it never
//! sees clap and never imports `cli`.

mod printer;

pub use printer::Printer;

use std::path::PathBuf;

use crate::fit::Grid;
use crate::head::Activation;

/// `inspect`: a checkpoint, optionally a feature set to check against its head.
#[derive(Debug, Clone)]
pub struct InspectSettings {
    /// PEFT adapter directory or a bare safetensors file.
    pub checkpoint: PathBuf,
    /// A feature set to check against the head.
    pub features: Option<PathBuf>,
    /// Print one JSON object instead of text.
    pub json: bool,
    /// The dense head's activation when the user overrides the checkpoint's.
    pub activation: Option<Activation>,
}

/// `features`: labelled texts through the user's ONNX classifier into a feature file.
#[derive(Debug, Clone)]
pub struct FeaturesSettings {
    /// The fine-tuned sequence classifier as one ONNX file (LoRA merged).
    pub model: PathBuf,
    /// Its tokenizer.json.
    pub tokenizer: PathBuf,
    /// Labelled texts (JSON Lines).
    pub texts: PathBuf,
    /// PEFT adapter directory or safetensors file holding the classification head.
    pub checkpoint: PathBuf,
    /// The feature file to write.
    pub out: PathBuf,
    /// Truncation length in tokens (`None`: tokenizer.json's own).
    pub max_length: Option<usize>,
    /// Texts per model run.
    pub batch_size: usize,
    /// Threads for ONNX Runtime and the tokenizer (`None`: all cores).
    pub threads: Option<usize>,
    /// The dense head's activation when the user overrides the checkpoint's.
    pub activation: Option<Activation>,
}

/// `fit`: inputs, the output directory and the resolved fit hyperparameters.
#[derive(Debug, Clone)]
pub struct FitSettings {
    /// PEFT adapter directory or a bare safetensors file.
    pub checkpoint: PathBuf,
    /// Features the AdUE head is trained on.
    pub train: PathBuf,
    /// Features AdUE never trains on: under cross-validation the untouched split (unbiased
    /// metrics, the calibration split); under hold-out the selection split (or its selection
    /// half, when there is no `calib`).
    pub val: Option<PathBuf>,
    /// Features held out for certifying a threshold (scored like the others, never used for
    /// fitting or selection).
    pub calib: Option<PathBuf>,
    /// Features for the final evaluation.
    pub test: Option<PathBuf>,
    /// Features the Mahalanobis baseline is fitted on (`None`: `train`).
    pub md_train: Option<PathBuf>,
    /// The fit directory to write.
    pub out: PathBuf,
    /// The grid of configurations, already read and validated (with `--lambda` applied).
    pub grid: Grid,
    /// `--lambda`: the one λ of every configuration (already set in `grid`; kept to be
    /// checked and reported as a parameter).
    pub lambda: Option<f64>,
    /// How the configuration is selected.
    pub selection: Selection,
    /// Seed of shuffling, dropout, hold-out split and bootstrap.
    pub seed: u64,
    /// Worker threads (≥ 1; the machine's parallelism when not given).
    pub threads: usize,
    /// The dense head's activation when the user overrides the checkpoint's.
    pub activation: Option<Activation>,
    /// Rescale `U` and `U_SR` by `1/(1 − 1/C)`.
    pub rescale: bool,
}

/// How `fit` selects the configuration and its checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Stratified k-fold cross-validation on `--train`, then a refit on all of it.
    CrossValidation {
        /// Folds.
        folds: usize,
        /// Seeded partitions averaged over.
        repeats: usize,
    },
    /// Early stopping and selection on a held-out split.
    Holdout,
}

/// The risk target of a certified rejection threshold (`--target-risk R --delta D`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiskTarget {
    /// Largest error rate allowed among accepted inputs.
    pub risk: f64,
    /// Allowed probability that the guarantee fails.
    pub delta: f64,
}

/// `export`: a fit directory to one ONNX file.
#[derive(Debug, Clone)]
pub struct ExportSettings {
    /// The fit directory.
    pub fit: PathBuf,
    /// The ONNX file to write.
    pub out: PathBuf,
    /// Add the `mahalanobis` output.
    pub with_mahalanobis: bool,
    /// Add the `accept` output, certified for this target.
    pub threshold: Option<RiskTarget>,
    /// Graft the heads onto this classifier ONNX instead of writing a standalone head.
    pub graft: Option<PathBuf>,
    /// The checkpoint that tells the head's module (`score` or `classifier`) when grafting.
    pub checkpoint: Option<PathBuf>,
}

/// `validate`: an ONNX file against its fit directory.
#[derive(Debug, Clone)]
pub struct ValidateSettings {
    /// The exported ONNX head.
    pub onnx: PathBuf,
    /// What to run the model on.
    pub input: ValidateInput,
    /// The fit directory the ONNX head was exported from.
    pub fit: PathBuf,
    /// The report to check against the schema (`None`: the fit directory's).
    pub report: Option<PathBuf>,
    /// A previous fit directory (or its `report.json`) whose AdUE test error ROC-AUC must
    /// not have dropped by more than `margin`.
    pub baseline: Option<PathBuf>,
    /// The non-inferiority margin of the gate (error ROC-AUC).
    pub margin: f64,
}

/// `report`: the summary of a fit directory, optionally as HTML.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// The fit directory.
    pub fit: PathBuf,
    /// Where to write the HTML page.
    pub html: Option<PathBuf>,
}

/// What `validate` runs the model on.
#[derive(Debug, Clone)]
pub enum ValidateInput {
    /// A feature file, for a standalone head.
    Features(PathBuf),
    /// Texts, for a grafted model and its original.
    Texts(TextsInput),
}

/// `validate --texts`: a grafted model and its original on labelled texts.
#[derive(Debug, Clone)]
pub struct TextsInput {
    /// Labelled texts (JSON Lines).
    pub texts: PathBuf,
    /// The original classifier ONNX.
    pub model: PathBuf,
    /// Its tokenizer.json.
    pub tokenizer: PathBuf,
    /// Truncation length (`None`: the tokenizer file's own).
    pub max_length: Option<usize>,
    /// Texts per model run.
    pub batch_size: usize,
    /// ONNX Runtime and tokenizer threads (`None`: all cores).
    pub threads: Option<usize>,
}
