//! The extract stage, between load and fit: labelled texts → the features the head consumes,
//! the labels and the model's own logits (CONTRACT §1), by running the user's ONNX
//! sequence classifier in ONNX Runtime.
//!
//! [`Prepared::new`] reads the tokenizer and the model, refuses what cannot work (external
//! data, inputs text cannot feed), finds the head by its weights ([`locate`]) and exposes
//! its input as a graph output ([`graph`]); [`Prepared::tokenize`] streams the JSONL texts
//! ([`texts`]) through the tokenizer ([`tokenize`]); [`Prepared::run`] batches by length
//! ([`batch`]), runs each batch ([`run`]) and pools it to one row per text ([`pool`]).
//! Finally the checkpoint's head applied to the features must reproduce the model's logits,
//! which proves the right tensor and pooling were taken.
//!
//! Memory: the token ids of every text (≤ max length each), the output rows, the model
//! (about three copies while loading), and one batch of hidden states.

pub mod batch;
mod error;
pub mod graph;
pub mod locate;
pub mod pool;
pub mod run;
pub mod texts;
pub mod tokenize;

pub use error::ExtractError;
pub use locate::{locate_head, LocateError, LocatedHead};
pub use pool::Pooling;

use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::ProgressBar;
use ndarray::{Array2, Axis, Zip};

use crate::head::Head;
use crate::onnx::encode_model;
use graph::TextInputs;
use locate::FloatType;
use texts::{JsonlReader, TextRow};
use tokenize::{TextTokenizer, Tokens};

/// Texts tokenized per call of the tokenizer (bounds the texts held in memory).
const TOKENIZE_CHUNK: usize = 1024;

/// Largest `max |head(features) − logits|` relative to `max(1, max |logit|)` accepted as
/// "the features are what the head consumes", for a float32 model: the same numbers in
/// another summation order differ by ~1e-6; a wrong token or layer by ~1. Float16 models
/// round every layer to 11 bits, hence [`HEAD_CHECK_TOLERANCE_F16`].
pub const HEAD_CHECK_TOLERANCE: f32 = 1e-3;
/// [`HEAD_CHECK_TOLERANCE`] for a float16 model.
pub const HEAD_CHECK_TOLERANCE_F16: f32 = 1e-2;

/// Whether a checkpoint's head keys name a decoder `score` head (which reads the last
/// token) rather than a `classifier`.
pub fn reads_last_token(head_keys: &[String]) -> bool {
    head_keys
        .iter()
        .any(|k| k.split('.').any(|part| part == "score"))
}

/// What to extract.
#[derive(Debug, Clone)]
pub struct ExtractSpec<'a> {
    /// The exported classifier (`.onnx`, one file, LoRA merged).
    pub model: &'a Path,
    /// Its `tokenizer.json`.
    pub tokenizer: &'a Path,
    /// The checkpoint's head (LoRA merged), to locate and to check against.
    pub head: &'a Head,
    /// Whether the head is a decoder `score` head ([`reads_last_token`]).
    pub reads_last_token: bool,
    /// Truncation length; the tokenizer file's own when `None`.
    pub max_length: Option<usize>,
    /// Rows per model run.
    pub batch_size: usize,
    /// Threads for ONNX Runtime and the tokenizer; their defaults when `None`.
    pub threads: Option<usize>,
}

/// A tokenizer and a model ready to run, with the head located.
pub struct Prepared {
    model_path: PathBuf,
    head: Head,
    batch_size: usize,
    threads: Option<usize>,
    /// The tokenizer with truncation and padding settled.
    pub tokenizer: TextTokenizer,
    /// Where the head is.
    pub located: LocatedHead,
    /// The inputs the graph takes.
    pub inputs: TextInputs,
    model: Vec<u8>,
}

/// Tokenized texts in file order.
#[derive(Debug, Clone, Default)]
pub struct Tokenized {
    /// The texts file.
    pub path: PathBuf,
    /// Token ids per row.
    pub tokens: Vec<Tokens>,
    /// Label per row.
    pub labels: Vec<i64>,
    /// Line of the file per row.
    pub lines: Vec<usize>,
}

/// What [`Prepared::run`] produced, rows in file order.
#[derive(Debug, Clone)]
pub struct Extracted {
    /// `[N, D]` the pooled head input.
    pub features: Array2<f32>,
    /// `[N]` gold labels.
    pub labels: Vec<i64>,
    /// `[N, C]` the model's logits.
    pub logits: Array2<f32>,
    /// How the head input became one row per text.
    pub pooling: Pooling,
    /// `max |head(features) − logits|`.
    pub head_logits_max_abs_diff: f32,
    /// Seconds spent in batching, ONNX Runtime and pooling.
    pub seconds: f64,
}

impl Prepared {
    /// Reads the tokenizer and the model, locates the head and prepares the model for
    /// running. Nothing is run yet.
    pub fn new(spec: &ExtractSpec<'_>) -> Result<Self, ExtractError> {
        let tokenizer = TextTokenizer::read(spec.tokenizer, spec.max_length)?;
        let mut model = crate::onnx::read_model(spec.model)?;
        graph::check_inline(&model, spec.model)?;
        let path = spec.model.to_path_buf();
        let g = model.graph.as_ref().ok_or_else(|| ExtractError::Locate {
            path: path.clone(),
            source: LocateError::NoGraph,
        })?;
        let inputs = graph::text_inputs(g, spec.model)?;
        let located = locate_head(&model, spec.head, spec.reads_last_token).map_err(|source| {
            ExtractError::Locate {
                path: path.clone(),
                source,
            }
        })?;
        graph::expose(
            &mut model,
            &located.head_input,
            located.head_input_type,
            spec.model,
        )?;
        let bytes = encode_model(&model);
        drop(model);
        Ok(Prepared {
            model_path: path,
            head: spec.head.clone(),
            batch_size: spec.batch_size.max(1),
            threads: spec.threads,
            tokenizer,
            located,
            inputs,
            model: bytes,
        })
    }

    /// Reads and tokenizes the JSONL texts at `path`, labels checked against the head.
    pub fn tokenize(&self, path: &Path) -> Result<Tokenized, ExtractError> {
        let mut reader = JsonlReader::open(path, self.head.num_classes())?;
        let mut out = Tokenized {
            path: path.to_path_buf(),
            ..Tokenized::default()
        };
        let pool = self.thread_pool()?;
        let mut chunk: Vec<TextRow> = Vec::with_capacity(TOKENIZE_CHUNK);
        loop {
            let row = reader.next_row()?;
            let done = row.is_none();
            chunk.extend(row);
            if chunk.len() == TOKENIZE_CHUNK || (done && !chunk.is_empty()) {
                let encode = || self.tokenizer.encode(&chunk, path);
                let tokens = match &pool {
                    Some(p) => p.install(encode)?,
                    None => encode()?,
                };
                out.tokens.extend(tokens);
                out.labels.extend(chunk.iter().map(|r| r.label as i64));
                out.lines.extend(chunk.iter().map(|r| r.line));
                chunk.clear();
            }
            if done {
                return Ok(out);
            }
        }
    }

    /// Runs every row through the model (length-sorted batches), advancing `progress` by
    /// rows, and checks the result.
    pub fn run(
        mut self,
        texts: &Tokenized,
        progress: &ProgressBar,
    ) -> Result<Extracted, ExtractError> {
        let mut runner = run::Runner::new(
            &self.model,
            &self.model_path,
            self.threads,
            self.inputs.clone(),
            &self.located,
        )?;
        self.model = Vec::new(); // ONNX Runtime holds its own copy.
        let start = Instant::now();
        let n = texts.tokens.len();
        let lengths: Vec<usize> = texts.tokens.iter().map(Tokens::len).collect();
        let plan = batch::plan(
            &lengths,
            self.batch_size,
            self.inputs.attention_mask.is_none(),
        );
        let (d, c) = (self.head.input_dim(), self.head.num_classes());
        let mut features = Array2::<f32>::zeros((n, d));
        let mut logits = Array2::<f32>::zeros((n, c));
        let mut pooling = None;
        progress.set_length(n as u64);
        for rows in plan {
            let refs: Vec<&Tokens> = rows.iter().map(|&i| &texts.tokens[i]).collect();
            let padded = batch::pad(&refs, self.tokenizer.pad_id, self.tokenizer.pad_left);
            let lines = || line_range(&rows, &texts.lines);
            let out = runner
                .run(&padded, |rank| self.located.pooling_for_rank(rank))
                .map_err(|e| with_lines(e, &lines()))?;
            let shape_err =
                |output: &str, what: &str, want: usize, got: usize| ExtractError::Output {
                    path: self.model_path.clone(),
                    output: output.to_string(),
                    reason: format!("{what} is {got}, the checkpoint's head has {want}"),
                };
            if out.features.ncols() != d {
                return Err(shape_err(
                    &self.located.head_input,
                    "width D",
                    d,
                    out.features.ncols(),
                ));
            }
            if out.logits.ncols() != c {
                return Err(shape_err(
                    &self.located.logits_output,
                    "class count C",
                    c,
                    out.logits.ncols(),
                ));
            }
            if *pooling.get_or_insert(out.pooling) != out.pooling {
                return Err(ExtractError::Output {
                    path: self.model_path.clone(),
                    output: self.located.head_input.clone(),
                    reason: "its rank changes between batches".to_string(),
                });
            }
            for (k, &i) in rows.iter().enumerate() {
                features.row_mut(i).assign(&out.features.row(k));
                logits.row_mut(i).assign(&out.logits.row(k));
            }
            progress.inc(rows.len() as u64);
        }
        progress.finish_and_clear();
        let seconds = start.elapsed().as_secs_f64();
        let pooling = pooling.unwrap_or(Pooling::AsIs);
        check_finite(
            &self.model_path,
            &self.located,
            &features,
            &logits,
            &texts.lines,
        )?;
        let diff = self.check_head(&features, &logits, pooling, texts)?;
        Ok(Extracted {
            features,
            labels: texts.labels.clone(),
            logits,
            pooling,
            head_logits_max_abs_diff: diff,
            seconds,
        })
    }

    /// `max |head(features) − logits|`, or an error when above the tolerance.
    fn check_head(
        &self,
        features: &Array2<f32>,
        logits: &Array2<f32>,
        pooling: Pooling,
        texts: &Tokenized,
    ) -> Result<f32, ExtractError> {
        let ours = self.head.logits(features.view());
        let (mut worst, mut row) = (0.0f32, 0);
        for (i, (a, b)) in ours
            .axis_iter(Axis(0))
            .zip(logits.axis_iter(Axis(0)))
            .enumerate()
        {
            let d = Zip::from(&a)
                .and(&b)
                .fold(0.0f32, |m, &x, &y| m.max((x - y).abs()));
            if d > worst || d.is_nan() {
                (worst, row) = (d, i);
            }
        }
        let scale = logits.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        let rel = match self.located.head_input_type {
            FloatType::F32 => HEAD_CHECK_TOLERANCE,
            FloatType::F16 => HEAD_CHECK_TOLERANCE_F16,
        };
        if worst.is_nan() || worst > rel * scale {
            return Err(ExtractError::Output {
                path: self.model_path.clone(),
                output: self.located.logits_output.clone(),
                reason: format!(
                    "the checkpoint's head applied to the extracted features (`{}`, pooling: {}) \
                     does not reproduce the model's logits: max abs diff {worst:.3e} (at {}:{}), \
                     tolerance {:.1e}; the pooling does not match the model's (for a decoder head: \
                     is the padding side right?), or the head's activation is wrong (--activation)",
                    self.located.head_input,
                    pooling.describe(),
                    texts.path.display(),
                    texts.lines.get(row).copied().unwrap_or(0),
                    rel * scale,
                ),
            });
        }
        Ok(worst)
    }

    fn thread_pool(&self) -> Result<Option<rayon::ThreadPool>, ExtractError> {
        let Some(n) = self.threads else {
            return Ok(None);
        };
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map(Some)
            .map_err(|e| ExtractError::Io {
                path: self.model_path.clone(),
                source: std::io::Error::other(format!("cannot start {n} tokenizer threads: {e}")),
            })
    }
}

/// `lines a–b` of the rows of one batch, for errors.
fn line_range(rows: &[usize], lines: &[usize]) -> String {
    let ls: Vec<usize> = rows.iter().filter_map(|&i| lines.get(i).copied()).collect();
    match (ls.iter().min(), ls.iter().max()) {
        (Some(a), Some(b)) if a != b => format!("rows of lines {a}..={b}"),
        (Some(a), _) => format!("the row of line {a}"),
        _ => "an empty batch".to_string(),
    }
}

fn with_lines(e: ExtractError, lines: &str) -> ExtractError {
    match e {
        ExtractError::Session { path, reason } => ExtractError::Session {
            path,
            reason: format!("{reason} (batch of {lines})"),
        },
        other => other,
    }
}

/// Features and logits must be finite (CONTRACT §1); the error names the row's line.
fn check_finite(
    path: &Path,
    located: &LocatedHead,
    features: &Array2<f32>,
    logits: &Array2<f32>,
    lines: &[usize],
) -> Result<(), ExtractError> {
    for (output, m) in [
        (&located.head_input, features),
        (&located.logits_output, logits),
    ] {
        if let Some(((r, _), v)) = m.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(ExtractError::Output {
                path: path.to_path_buf(),
                output: output.clone(),
                reason: format!(
                    "non-finite value {v} for the text of line {}",
                    lines.get(r).copied().unwrap_or(0)
                ),
            });
        }
    }
    Ok(())
}
