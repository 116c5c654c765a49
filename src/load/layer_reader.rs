//! Reading the layers of a head out of a checkpoint file: each base weight and bias by key
//! (from the checkpoint or, when it only carries LoRA factors, from the local base model),
//! converted to f32, checked, with the head's LoRA factors merged (CONTRACT §2).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};

use super::adapter_config::{AdapterConfig, ADAPTER_CONFIG};
use super::base_model::BaseModel;
use super::checkpoint::ADAPTER_WEIGHTS;
use super::error::{sample_list, LoadError};
use super::head_keys::{CheckpointLayout, KeyIndex, Precedence, Role};
use super::lora::{lora_scaling, merge_into, LoraModuleMerge};
use super::safetensors_file::SafetensorsFile;
use super::tensor_view::check_finite;

/// One linear layer of the head.
pub(super) struct Layer {
    /// The file the base weight came from (the checkpoint, or the base model).
    pub(super) source: PathBuf,
    pub(super) weight_key: String,
    pub(super) weight: Array2<f32>,
    pub(super) bias: Option<Array1<f32>>,
}

/// Reads head layers, recording the keys, dtypes and LoRA merges it used.
pub(super) struct LayerReader<'a> {
    pub(super) file: &'a SafetensorsFile,
    pub(super) index: &'a KeyIndex,
    /// Where base weights missing from `file` are read, if found.
    pub(super) base: Option<&'a BaseModel>,
    /// Base-model files read (beyond the checkpoint's own).
    pub(super) files: Vec<PathBuf>,
    pub(super) config: Option<&'a AdapterConfig>,
    pub(super) layout: CheckpointLayout,
    pub(super) keys: Vec<String>,
    pub(super) dtypes: BTreeSet<String>,
    pub(super) merges: Vec<LoraModuleMerge>,
}

impl<'a> LayerReader<'a> {
    fn path(&self) -> &Path {
        self.file.path()
    }

    fn matrix(
        &mut self,
        file: &SafetensorsFile,
        key: &str,
        expected: &str,
    ) -> Result<Array2<f32>, LoadError> {
        let v = file.require(key)?;
        let m = v.to_f32_matrix(expected)?;
        check_finite(file.path(), key, &m)?;
        self.keys.push(key.to_string());
        self.dtypes.insert(v.dtype.name().to_string());
        Ok(m)
    }

    fn vector(
        &mut self,
        file: &SafetensorsFile,
        key: &str,
        len: usize,
    ) -> Result<Array1<f32>, LoadError> {
        let v = file.require(key)?;
        let expected = format!("[{len}]");
        let x = v.to_f32_vector(&expected)?;
        if x.len() != len {
            return Err(LoadError::Shape {
                path: file.path().to_path_buf(),
                tensor: key.to_string(),
                expected,
                got: v.shape.to_vec(),
            });
        }
        if let Some((i, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(LoadError::NonFinite {
                path: file.path().to_path_buf(),
                tensor: key.to_string(),
                row: i,
                col: 0,
                value,
            });
        }
        self.keys.push(key.to_string());
        self.dtypes.insert(v.dtype.name().to_string());
        Ok(x)
    }

    fn pick(
        &self,
        module: &str,
        role: Role,
        at: Option<Precedence>,
    ) -> Result<Option<(Precedence, String)>, LoadError> {
        Ok(self
            .index
            .pick(self.path(), module, role, at)?
            .map(|(p, k)| (p, k.to_string())))
    }

    fn found(&self) -> String {
        let keys: Vec<&str> = self
            .layout
            .modules()
            .iter()
            .flat_map(|m| self.index.keys_of(m))
            .collect();
        sample_list(keys, 8)
    }

    /// Reads `module`'s weight (and bias; required when `needs_bias`) and merges its LoRA.
    pub(super) fn layer(&mut self, module: &str, needs_bias: bool) -> Result<Layer, LoadError> {
        let kind = if self.layout == CheckpointLayout::Dense {
            "dense"
        } else {
            "linear"
        };
        // The base weight: in the checkpoint, else in the base model (LoRA-only head). LoRA
        // factors then come from the checkpoint copy of the same precedence, or the best one.
        let base = self.base;
        let (src, prec, wkey) = match self.pick(module, Role::Weight, None)? {
            Some((p, k)) => (self.file, Some(p), k),
            None => match base
                .map(|b| b.find(module, Role::Weight))
                .transpose()?
                .flatten()
            {
                Some((f, _, k)) => (f, None, k),
                None => return Err(self.missing_weight(module, kind)?),
            },
        };
        let mut weight = self.matrix(src, &wkey, "[out, in]")?;
        if weight.is_empty() {
            return Err(shape_err(
                src.path(),
                &wkey,
                "[out, in] with out ≥ 1 and in ≥ 1".to_string(),
                weight.shape(),
            ));
        }
        let bias_key = match prec {
            Some(p) => self.pick(module, Role::Bias, Some(p))?.map(|(_, k)| k),
            None => base
                .map(|b| b.find(module, Role::Bias))
                .transpose()?
                .flatten()
                .map(|(_, _, k)| k),
        };
        let mut bias = match bias_key {
            Some(bkey) => Some(self.vector(src, &bkey, weight.nrows())?),
            None if needs_bias => {
                return Err(LoadError::IncompleteHead {
                    path: src.path().to_path_buf(),
                    kind: kind.to_string(),
                    missing: format!("{module}.bias"),
                    found: self.found(),
                })
            }
            None => None,
        };
        if src.path() != self.file.path() && !self.files.iter().any(|f| f == src.path()) {
            self.files.push(src.path().to_path_buf());
        }
        self.merge_lora(module, prec, &mut weight, &mut bias)?;
        Ok(Layer {
            source: src.path().to_path_buf(),
            weight_key: wkey,
            weight,
            bias,
        })
    }

    /// The error for a head layer without a base weight anywhere.
    fn missing_weight(&self, module: &str, kind: &str) -> Result<LoadError, LoadError> {
        let lora = match self.pick(module, Role::LoraA, None)? {
            Some(k) => Some(k),
            None => self.pick(module, Role::LoraB, None)?,
        };
        Ok(match lora {
            Some((_, lora_key)) => {
                let base = self
                    .config
                    .and_then(|c| c.base_model_name_or_path.as_deref());
                LoadError::BaseWeightMissing {
                    path: self.path().to_path_buf(),
                    module: module.to_string(),
                    lora_key,
                    note: match (base, self.base) {
                        (None, _) => "the adapter config names no base model".to_string(),
                        (Some(b), None) => format!(
                            "its base_model_name_or_path `{b}` is not a local model directory \
                             (model.safetensors or model.safetensors.index.json)"
                        ),
                        (Some(b), Some(_)) => format!("the base model `{b}` lacks it too"),
                    },
                }
            }
            None => LoadError::IncompleteHead {
                path: self.path().to_path_buf(),
                kind: kind.to_string(),
                missing: format!("{module}.weight"),
                found: self.found(),
            },
        })
    }

    fn merge_lora(
        &mut self,
        module: &str,
        prec: Option<Precedence>,
        weight: &mut Array2<f32>,
        bias: &mut Option<Array1<f32>>,
    ) -> Result<(), LoadError> {
        let a = self.pick(module, Role::LoraA, prec)?;
        let b = self.pick(module, Role::LoraB, prec)?;
        let bb = self.pick(module, Role::LoraBBias, prec)?;
        let err = |reason: String| LoadError::Lora {
            path: self.file.path().to_path_buf(),
            module: module.to_string(),
            reason,
        };
        let (akey, bkey) = match (a, b) {
            (Some((_, a)), Some((_, b))) => (a, b),
            (None, None) if bb.is_none() => return Ok(()),
            (Some((_, k)), None) | (None, Some((_, k))) => {
                return Err(err(format!(
                    "`{k}` has no partner factor (lora_A needs lora_B)"
                )))
            }
            (None, None) => return Err(err("a lora_B bias without lora_A / lora_B".to_string())),
        };
        let Some(config) = self.config else {
            return Err(err(format!(
                "LoRA factors (`{akey}`) cannot be merged without `{ADAPTER_CONFIG}` (it gives \
                 lora_alpha and r); put it beside `{ADAPTER_WEIGHTS}` or pass the adapter directory"
            )));
        };
        if config.use_dora {
            return Err(err(format!(
                "`{}` sets use_dora: DoRA heads are not supported; merge the adapter \
                 (`merge_and_unload()`) and pass the merged model",
                config.path.display()
            )));
        }
        let (out_dim, in_dim) = weight.dim();
        let a = self.matrix(self.file, &akey, &format!("[r, {in_dim}]"))?;
        let r = a.nrows();
        if r == 0 || a.ncols() != in_dim {
            return Err(shape_err(
                self.path(),
                &akey,
                format!("[r, {in_dim}] with r ≥ 1"),
                a.shape(),
            ));
        }
        let b = self.matrix(self.file, &bkey, &format!("[{out_dim}, {r}]"))?;
        if b.dim() != (out_dim, r) {
            return Err(shape_err(
                self.path(),
                &bkey,
                format!("[{out_dim}, {r}]"),
                b.shape(),
            ));
        }
        let b_bias = match &bb {
            Some((_, k)) => Some(self.vector(self.file, k, out_dim)?),
            None => None,
        };
        if let Some(cr) = config.rank_for(module)? {
            if cr != r {
                return Err(err(format!(
                    "`{akey}` has rank {r} but `{}` gives r = {cr} (rank_pattern / r)",
                    config.path.display()
                )));
            }
        }
        let alpha = config.alpha_for(module)?.ok_or_else(|| {
            err(format!(
                "`{}` has no lora_alpha to scale the factors with",
                config.path.display()
            ))
        })?;
        let scaling = lora_scaling(alpha, r, config.use_rslora);
        let max_abs_delta = merge_into(weight, bias, &a, &b, b_bias.as_ref(), scaling);
        self.merges.push(LoraModuleMerge {
            module: module.to_string(),
            lora_a: akey,
            lora_b: bkey,
            lora_b_bias: bb.map(|(_, k)| k),
            rank: r,
            alpha,
            rslora: config.use_rslora,
            scaling,
            max_abs_delta,
        });
        Ok(())
    }
}

fn shape_err(path: &Path, key: &str, expected: String, got: &[usize]) -> LoadError {
    LoadError::Shape {
        path: path.to_path_buf(),
        tensor: key.to_string(),
        expected,
        got: got.to_vec(),
    }
}

/// A classification head needs at least two classes (softmax over one class is constant).
pub(super) fn check_classes(out: &Layer) -> Result<(), LoadError> {
    if out.weight.nrows() < 2 {
        return Err(shape_err(
            &out.source,
            &out.weight_key,
            "[C, in] with C ≥ 2 classes".to_string(),
            out.weight.shape(),
        ));
    }
    Ok(())
}

/// `out_proj` must consume the `H` outputs of `dense`.
pub(super) fn check_dense_shapes(dense: &Layer, out: &Layer) -> Result<(), LoadError> {
    let h = dense.weight.nrows();
    if out.weight.ncols() != h {
        return Err(shape_err(
            &out.source,
            &out.weight_key,
            format!(
                "[C, {h}] (out_proj takes the {h} outputs of `{}`)",
                dense.weight_key
            ),
            out.weight.shape(),
        ));
    }
    check_classes(out)
}
