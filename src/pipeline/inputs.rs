//! Reading the inputs every subcommand shares: the checkpoint's head and feature
//! sets that fit it, with the model's own logits checked against the head.

use std::path::Path;

use anyhow::{bail, Context};

use crate::head::Activation;
use crate::load::{read_checkpoint, read_features, Checkpoint, FeatureSet};

/// Largest `max |head(features) − stored logits|`, relative to `max(1, max |logit|)`,
/// that we accept as "the head reproduces the model". f32 features reproduce to ~1e-6;
/// anything near 1e-3 means the head and the features do not belong together.
pub const LOGITS_TOLERANCE: f32 = 1e-3;

/// Reads the checkpoint's classification head (`act` overrides a dense head's activation).
pub fn checkpoint(path: &Path, act: Option<Activation>) -> anyhow::Result<Checkpoint> {
    read_checkpoint(path, act).with_context(|| "reading the checkpoint".to_string())
}

/// Reads a feature set and checks it against the head: shapes, label range, and that the
/// head reproduces the stored logits (CONTRACT §1).
pub fn features(path: &Path, ckpt: &Checkpoint) -> anyhow::Result<FeatureSet> {
    let fs = read_features(path)?;
    fs.check_against(&ckpt.head)?;
    check_logits(&fs, ckpt)?;
    Ok(fs)
}

/// Errors when the head does not reproduce the file's logits, naming the likely causes.
pub fn check_logits(fs: &FeatureSet, ckpt: &Checkpoint) -> anyhow::Result<()> {
    let (Some(diff), Some(stored)) = (fs.logits_max_abs_diff(&ckpt.head), fs.logits.as_ref())
    else {
        return Ok(());
    };
    let scale = stored.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    if diff.is_nan() || diff > LOGITS_TOLERANCE * scale {
        let act = match ckpt.head.activation() {
            Some(a) => format!(
                "the dense head's activation is wrong (read as {}; try --activation {}), ",
                a.as_str(),
                if a == Activation::Tanh {
                    "gelu"
                } else {
                    "tanh"
                }
            ),
            None => String::new(),
        };
        bail!(
            "{}: tensor `logits`: the head read from {} does not reproduce the stored logits \
             (max abs diff {diff:.3e}, tolerance {:.1e}); likely causes: {act}the features come \
             from another checkpoint or training step, or from the wrong token/layer \
             (the head consumes the CLS token for encoders, the last non-pad token for decoders)",
            fs.path.display(),
            ckpt.path.display(),
            LOGITS_TOLERANCE * scale,
        );
    }
    Ok(())
}
