//! The command-line flags, as parsed (CONTRACT §3). `resolve` turns them into
//! [`crate::settings`]; validation that needs the inputs happens in the pipeline.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Turn a LoRA-fine-tuned classifier into a validated AdUE uncertainty head.
#[derive(Debug, Parser)]
#[command(name = "adue-compile", version, about, propagate_version = true)]
pub struct Cli {
    /// Print nothing on stderr but errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands, in pipeline order.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read a checkpoint (and optionally a feature set) and describe the head.
    Inspect(InspectArgs),
    /// Run the fine-tuned ONNX classifier on labelled texts and cache the head's input
    /// features, labels and logits (CONTRACT §1).
    Features(FeaturesArgs),
    /// Fit the AdUE head on cached features, score baselines, write a fit directory.
    Fit(FitArgs),
    /// Export a fit directory as one self-contained ONNX uncertainty head.
    Export(ExportArgs),
    /// Check an exported ONNX head in ONNX Runtime against the reference (CI gate).
    Validate(ValidateArgs),
    /// Summarise a fit directory's report (stdout) and optionally render HTML.
    Report(ReportArgs),
}

/// Activation of a dense head, overriding what the checkpoint implies.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ActivationArg {
    /// RoBERTa-style head.
    Tanh,
    /// ELECTRA-style head (exact erf GELU).
    Gelu,
}

/// How `fit` selects the configuration.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SelectionArg {
    /// Stratified k-fold cross-validation on --train, then a refit on all of it.
    Cv,
    /// Early stopping and selection on a held-out split.
    Holdout,
}

/// `inspect` flags.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// PEFT adapter directory or a bare safetensors file.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// A feature set to check against the head (rows, error rate, logit reproduction).
    #[arg(long)]
    pub features: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Override the dense head's activation.
    #[arg(long, value_enum)]
    pub activation: Option<ActivationArg>,
}

/// `features` flags.
#[derive(Debug, Args)]
pub struct FeaturesArgs {
    /// The fine-tuned sequence classifier as one ONNX file (LoRA merged).
    #[arg(long)]
    pub model: PathBuf,
    /// Its tokenizer.json (Hugging Face `tokenizers` format).
    #[arg(long)]
    pub tokenizer: PathBuf,
    /// Labelled texts: JSON Lines, one `{"text": str, "label": int}` per line.
    #[arg(long)]
    pub texts: PathBuf,
    /// PEFT adapter directory or safetensors file holding the classification head.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// The feature file to write (safetensors).
    #[arg(long)]
    pub out: PathBuf,
    /// Truncate texts to this many tokens, special tokens included (default: tokenizer.json's).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_length: Option<u32>,
    /// Texts per model run (batches are sorted by length).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: u32,
    /// Threads for ONNX Runtime and the tokenizer (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,
    /// Override the dense head's activation.
    #[arg(long, value_enum)]
    pub activation: Option<ActivationArg>,
}

/// `fit` flags.
#[derive(Debug, Args)]
pub struct FitArgs {
    /// PEFT adapter directory or a bare safetensors file.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Features the AdUE head is trained on.
    #[arg(long)]
    pub train: PathBuf,
    /// Features AdUE never trains on. With --selection cv (default): untouched by fitting and
    /// selection (unbiased metrics, the calibration split for `export --target-risk`). With
    /// --selection holdout: the selection split (a seeded half of it when --calib is not
    /// given; the other half is the calibration split).
    #[arg(long)]
    pub val: Option<PathBuf>,
    /// Features held out for certifying a threshold (`export --target-risk`): never used for
    /// fitting or selection.
    #[arg(long)]
    pub calib: Option<PathBuf>,
    /// Features for the final, untouched evaluation.
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Output directory (created; existing files in it are replaced atomically).
    #[arg(long)]
    pub out: PathBuf,
    /// Grid of configurations: `default` (8 full-batch configurations, chosen for
    /// cross-validated selection), `quick` (18 one-cycle configurations), `paper` (144), or a
    /// JSON file.
    #[arg(long, default_value = "default")]
    pub grid: String,
    /// SmoothMax sharpness λ: replaces the grid's λ values by this one (default: the grid's;
    /// 100 for grid blocks without λ).
    #[arg(long = "lambda")]
    pub lambda: Option<f64>,
    /// Selection: `cv` (stratified k-fold cross-validation on --train, then a refit on all of
    /// it) or `holdout` (early stopping and selection on --val, or on a seeded, stratified
    /// 20% of --train without --val).
    #[arg(long, value_enum, default_value = "cv")]
    pub selection: SelectionArg,
    /// Folds of --selection cv.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Repeats of --selection cv (each a new seeded partition into folds).
    #[arg(long, default_value_t = 1)]
    pub cv_repeats: usize,
    /// Seed for shuffling, dropout, hold-out split and bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads (results are identical for any value).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Override the dense head's activation.
    #[arg(long, value_enum)]
    pub activation: Option<ActivationArg>,
    /// Features to fit the Mahalanobis baseline on (default: --train).
    #[arg(long)]
    pub md_train: Option<PathBuf>,
    /// Use the authors' later variant: U and U_SR rescaled by 1/(1 − 1/C).
    #[arg(long)]
    pub rescale: bool,
}

/// `export` flags.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A directory written by `fit`.
    #[arg(long)]
    pub fit: PathBuf,
    /// The ONNX file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Add a `mahalanobis` output (class-conditional distance on the features).
    #[arg(long)]
    pub with_mahalanobis: bool,
    /// Target error rate among accepted inputs; adds an `accept` output.
    #[arg(long, requires = "delta")]
    pub target_risk: Option<f64>,
    /// Allowed probability that the risk guarantee fails.
    #[arg(long, requires = "target_risk")]
    pub delta: Option<f64>,
    /// The user's classifier ONNX (one file, LoRA merged): write it with the UE head grafted
    /// on (its inputs and outputs kept, `probabilities`, `uncertainty`, … added).
    #[arg(long)]
    pub graft: Option<PathBuf>,
    /// The checkpoint the fit used, to tell a `score` head (last token) from a `classifier`
    /// (token 0) with --graft (default: the checkpoint recorded in the fit's report).
    #[arg(long, requires = "graft")]
    pub checkpoint: Option<PathBuf>,
}

/// `validate` flags.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The exported ONNX head.
    #[arg(long)]
    pub onnx: PathBuf,
    /// Features to run through ONNX Runtime and the reference (a standalone head).
    #[arg(long, required_unless_present = "texts", conflicts_with = "texts")]
    pub features: Option<PathBuf>,
    /// Labelled texts (JSON Lines) to run through a grafted model (`export --graft`) and
    /// its original (--model, --tokenizer).
    #[arg(long, requires_all = ["model", "tokenizer"])]
    pub texts: Option<PathBuf>,
    /// The original classifier ONNX the model was grafted onto (with --texts).
    #[arg(long, requires = "texts")]
    pub model: Option<PathBuf>,
    /// Its tokenizer.json (with --texts).
    #[arg(long, requires = "texts")]
    pub tokenizer: Option<PathBuf>,
    /// Truncation length in tokens with --texts (default: tokenizer.json's own).
    #[arg(long, requires = "texts", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_length: Option<u32>,
    /// Texts per model run with --texts.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: u32,
    /// ONNX Runtime and tokenizer threads with --texts (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,
    /// The fit directory the ONNX head was exported from.
    #[arg(long)]
    pub fit: PathBuf,
    /// A report.json to validate against the schema (default: the fit directory's).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// A previous fit directory (or its report.json, with scores.safetensors beside it); fail
    /// when AdUE's test error ROC-AUC dropped by more than --margin (one-sided 95% bound).
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Non-inferiority margin of the --baseline gate, in error ROC-AUC.
    #[arg(long, default_value_t = 0.01, requires = "baseline")]
    pub margin: f64,
}

/// `report` flags.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A directory written by `fit`.
    #[arg(long)]
    pub fit: PathBuf,
    /// Also write a self-contained HTML page here.
    #[arg(long)]
    pub html: Option<PathBuf>,
}
