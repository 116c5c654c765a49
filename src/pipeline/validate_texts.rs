//! `validate --texts`: a grafted model (`export --graft`) against its original on labelled
//! texts (see [`crate::validate::graft`]). The texts are tokenized and batched as `features`
//! does; the features the reference head is applied to come from the original graph with
//! its head input exposed, pooled by `features`' code, on the same batches.

use std::path::PathBuf;

use anyhow::{bail, Context};

use crate::export::graft::{HEAD_INPUT, POOLING};
use crate::extract::{ExtractSpec, Prepared};
use crate::load::{read_capped, MAX_MODEL_BYTES};
use crate::settings::{Printer, TextsInput};
use crate::validate::graft::{validate_grafted, GraftedInputs, ModelFile};
use crate::validate::provenance::metadata_map;
use crate::validate::texts::TextBatches;
use crate::validate::{Check, Reference};

/// The checks of a grafted model on `t`'s texts; `Err` for bad input (exit 2).
pub fn checks(
    t: &TextsInput,
    grafted: ModelFile,
    reference: Reference,
    hashed: &[(String, PathBuf)],
    printer: &Printer,
) -> anyhow::Result<Vec<Check>> {
    let meta = metadata_map(grafted.model);
    let (Some(&head_input), Some(&pooling)) = (meta.get(HEAD_INPUT), meta.get(POOLING)) else {
        bail!(
            "{}: not a grafted model (no `{HEAD_INPUT}` / `{POOLING}` metadata); validate a \
             standalone head with --features, or graft with `export --graft`",
            grafted.path.display()
        );
    };
    let spec = ExtractSpec {
        model: &t.model,
        tokenizer: &t.tokenizer,
        head: reference.original,
        reads_last_token: pooling == "last_token",
        max_length: t.max_length,
        batch_size: t.batch_size,
        threads: t.threads,
    };
    let prepared = Prepared::new(&spec)?;
    let mut checks = vec![Check::new(
        "graft.head_input",
        prepared.located.head_input == head_input,
        format!(
            "the original model's head reads `{}`; the graft recorded `{head_input}`",
            prepared.located.head_input
        ),
    )];
    let tokens = prepared.tokenize(&t.texts)?;
    let (pad_id, pad_left) = (prepared.tokenizer.pad_id, prepared.tokenizer.pad_left);
    let inputs = prepared.inputs.clone();
    printer.stage(format!(
        "validate: {} texts of {} through the original and the grafted model",
        tokens.tokens.len(),
        t.texts.display()
    ));
    let extracted = prepared.run(&tokens, &indicatif::ProgressBar::hidden())?;
    checks.push(Check::new(
        "graft.pooling",
        extracted.pooling.name() == pooling,
        format!(
            "`features` pools the head input {}; the graft recorded `{pooling}`",
            extracted.pooling.describe()
        ),
    ));
    let bytes = read_capped(&t.model, MAX_MODEL_BYTES)
        .with_context(|| format!("cannot read {}", t.model.display()))?;
    let original = crate::onnx::decode_model(&bytes)
        .with_context(|| format!("{}: not an ONNX model", t.model.display()))?;
    let inputs = GraftedInputs {
        grafted,
        original: ModelFile {
            path: &t.model,
            bytes: &bytes,
            model: &original,
        },
        texts: TextBatches {
            tokens: &tokens.tokens,
            pad_id,
            pad_left,
            batch_size: t.batch_size,
            inputs: &inputs,
        },
        threads: t.threads,
        features: extracted.features.view(),
        reference,
        hashed_inputs: hashed,
    };
    checks.extend(validate_grafted(&inputs)?);
    Ok(checks)
}
