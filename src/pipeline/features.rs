//! `features`: labelled texts → a feature file (CONTRACT §1), by running the user's ONNX
//! classifier (see [`crate::extract`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::{inputs, Outcome};
use crate::extract::{reads_last_token, ExtractSpec, Extracted, Prepared};
use crate::load::{label_names, sha256_file, Checkpoint, FEATURES, LABELS, LABEL_NAMES, LOGITS};
use crate::output::{encode_safetensors, write_atomic, TensorData, TensorOut};
use crate::settings::{FeaturesSettings, Printer};

/// Runs `features`.
pub fn run(args: &FeaturesSettings, printer: &Printer) -> anyhow::Result<Outcome> {
    let ckpt = inputs::checkpoint(&args.checkpoint, args.activation)?;
    refuse_overwrite(args, &ckpt)?;
    let spec = ExtractSpec {
        model: &args.model,
        tokenizer: &args.tokenizer,
        head: &ckpt.head,
        reads_last_token: reads_last_token(&ckpt.head_keys),
        max_length: args.max_length,
        batch_size: args.batch_size,
        threads: args.threads,
    };
    let prepared = Prepared::new(&spec)?;
    let located = prepared.located.clone();
    let w = &located.weights[0];
    printer.stage(format!(
        "features: head input `{}` (applied by {} `{}` with `{}`{}), logits `{}`",
        located.head_input,
        w.layer.op,
        w.layer.node,
        w.tensor,
        if w.transposed { ", transposed" } else { "" },
        located.logits_output
    ));
    let start = std::time::Instant::now();
    let texts = prepared.tokenize(&args.texts)?;
    let tokenize_seconds = start.elapsed().as_secs_f64();
    let tok = &prepared.tokenizer;
    let max_length = tok.max_length;
    let lengths = texts.tokens.iter().map(|t| t.len());
    printer.stage(format!(
        "features: {} texts, {}..={} tokens (max length {}, {} special, pad id {}{})",
        texts.tokens.len(),
        lengths.clone().min().unwrap_or(0),
        lengths.max().unwrap_or(0),
        tok.max_length,
        tok.special_tokens,
        tok.pad_id,
        if tok.pad_left { ", left padding" } else { "" }
    ));
    let model_sha256 = sha256_file(&args.model)?;
    let bar = progress_bar(printer);
    let out = prepared.run(&texts, &bar)?;
    let mut meta = BTreeMap::from([
        ("model".to_string(), args.model.display().to_string()),
        ("model_sha256".to_string(), model_sha256),
        ("dataset".to_string(), args.texts.display().to_string()),
        ("head_input".to_string(), located.head_input.clone()),
        ("pooling".to_string(), out.pooling.name().to_string()),
        ("max_length".to_string(), max_length.to_string()),
    ]);
    if let Some(stem) = args.texts.file_stem() {
        meta.insert("split".to_string(), stem.to_string_lossy().into_owned());
    }
    if let Some(names) = label_names(&ckpt) {
        meta.insert(LABEL_NAMES.to_string(), serde_json::to_string(&names)?);
    }
    write(&args.out, &out, &meta)?;
    println!(
        "{}: {} rows, features [{}, {}] (`{}`, {}), logits [{}, {}]; head vs model logits max abs diff {:.3e}; \
         {:.1} rows/s in tokenization + model loop",
        args.out.display(),
        out.features.nrows(),
        out.features.nrows(),
        out.features.ncols(),
        located.head_input,
        out.pooling.describe(),
        out.logits.nrows(),
        out.logits.ncols(),
        out.head_logits_max_abs_diff,
        // As the Python tools time it: tokenization and the model runs, not model loading.
        out.features.nrows() as f64 / (tokenize_seconds + out.seconds).max(1e-9),
    );
    Ok(Outcome::Success)
}

fn progress_bar(printer: &Printer) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    if !printer.progress_bars() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    // The template is a constant; should it ever fail to parse, the default style is kept.
    if let Ok(style) = ProgressStyle::with_template(
        "features {bar:30.cyan/blue} {pos}/{len} texts [{elapsed_precise} < {eta_precise}]",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Writes the feature file atomically (CONTRACT §1).
fn write(path: &Path, out: &Extracted, meta: &BTreeMap<String, String>) -> anyhow::Result<()> {
    let (n, d, c) = (
        out.features.nrows(),
        out.features.ncols(),
        out.logits.ncols(),
    );
    let features = out.features.as_standard_layout();
    let logits = out.logits.as_standard_layout();
    let tensors = [
        TensorOut::f32(FEATURES, vec![n, d], features.as_slice().unwrap_or(&[])),
        TensorOut {
            name: LABELS,
            shape: vec![n],
            data: TensorData::I64(&out.labels),
        },
        TensorOut::f32(LOGITS, vec![n, c], logits.as_slice().unwrap_or(&[])),
    ];
    write_atomic(path, &encode_safetensors(&tensors, meta))
        .with_context(|| "writing the feature file".to_string())
}

/// Refuses an `--out` that is a directory or one of the inputs: the tool never writes its
/// inputs.
fn refuse_overwrite(args: &FeaturesSettings, ckpt: &Checkpoint) -> anyhow::Result<()> {
    if args.out.is_dir() {
        bail!(
            "--out {}: is a directory, expected a file path",
            args.out.display()
        );
    }
    let Some(out) = resolve(&args.out) else {
        return Ok(());
    };
    let mut inputs: Vec<&Path> = vec![&args.model, &args.tokenizer, &args.texts];
    inputs.extend(ckpt.files.iter().map(|f| f.path.as_path()));
    for input in inputs {
        if input.canonicalize().is_ok_and(|p| p == out) {
            bail!(
                "--out {}: would overwrite the input {}; choose another path",
                args.out.display(),
                input.display()
            );
        }
    }
    Ok(())
}

/// `path` with its directory canonicalised (the file itself may not exist yet).
fn resolve(path: &Path) -> Option<PathBuf> {
    let parent = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name()?;
    let resolved = parent.canonicalize().ok()?.join(name);
    // A symlink at `path` is followed: writing through it would replace its target.
    Some(resolved.canonicalize().unwrap_or(resolved))
}
