//! `export --graft`: the fitted heads grafted onto the user's classifier ONNX
//! (see [`crate::export::graft`]).

use std::path::{Path, PathBuf};

use anyhow::bail;

use super::inputs;
use crate::export::graft::graft_to_file;
use crate::export::ExportSpec;
use crate::extract::reads_last_token;
use crate::report::Report;
use crate::settings::{ExportSettings, Printer};

/// Grafts `spec` onto `model` and writes `args.out`.
pub fn run(
    spec: &ExportSpec,
    model: &Path,
    args: &ExportSettings,
    report: &Report,
    printer: &Printer,
) -> anyhow::Result<()> {
    if same_file(model, &args.out) {
        bail!(
            "--out {}: is the --graft model; choose another path (the tool never writes its inputs)",
            args.out.display()
        );
    }
    let last = match checkpoint_path(args, report) {
        Some(p) => Some(reads_last_token(&inputs::checkpoint(&p, None)?.head_keys)),
        None => None,
    };
    let g = graft_to_file(spec, model, last, &args.out)?;
    printer.stage(format!(
        "export: grafted onto {} (ai.onnx opset {}, kept): head input `{}` pooled {}, logits \
         `{}`, new names prefixed `{}`",
        model.display(),
        g.opset,
        g.located.head_input,
        g.pooling.describe(),
        g.located.logits_output,
        g.prefix
    ));
    Ok(())
}

/// `--checkpoint`, else the checkpoint the fit recorded (`inputs.checkpoint.<file>`): the
/// adapter directory holding its safetensors file, or the file itself, when it still exists.
fn checkpoint_path(args: &ExportSettings, report: &Report) -> Option<PathBuf> {
    if let Some(p) = &args.checkpoint {
        return Some(p.clone());
    }
    let recorded = report
        .inputs
        .iter()
        .filter(|(k, _)| k.starts_with("checkpoint."))
        .map(|(_, v)| PathBuf::from(&v.path))
        .find(|p| p.extension().is_some_and(|e| e == "safetensors") && p.is_file())?;
    match recorded.parent() {
        Some(dir) if dir.join("adapter_config.json").is_file() => Some(dir.to_path_buf()),
        _ => Some(recorded),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
