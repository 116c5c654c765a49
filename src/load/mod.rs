//! The load stage: read and validate cached features (CONTRACT §1) and the classification
//! head of a checkpoint (CONTRACT §2).
//!
//! Nothing read from disk is trusted. Safetensors headers are parsed and checked here
//! ([`SafetensorsFile`]) rather than by a library, so that every error names the file, the
//! tensor and what was expected; features and logits must be finite; labels must be class
//! indices; head shapes must agree; LoRA factors on the head are merged.

mod activation_source;
mod adapter_config;
mod base_model;
mod capped_read;
mod checkpoint;
mod digest;
mod dtype;
mod error;
mod features;
mod head_keys;
mod inspect;
mod json_file;
mod label_names;
mod layer_reader;
mod lora;
mod mapped;
mod model_config;
mod npy;
mod safetensors_file;
mod tensor_view;

pub use crate::head::argmax;
pub use activation_source::{activation_for_name, ActivationSource};
pub use adapter_config::{AdapterConfig, ADAPTER_CONFIG};
pub use capped_read::{read_capped, MAX_JSON_BYTES, MAX_MODEL_BYTES};
pub use checkpoint::{read_checkpoint, Checkpoint, ADAPTER_WEIGHTS, MODEL_WEIGHTS};
pub use digest::{sha256_file, sha256_manifest, InputFile};
pub use dtype::Dtype;
pub use error::LoadError;
pub use features::{
    features_from_safetensors, read_features, FeatureSet, FEATURES, LABELS, LABEL_NAMES, LOGITS,
    NPY_METADATA_FILE,
};
pub use head_keys::PEFT_PREFIX;
pub use inspect::{error_rate, inspect};
pub use label_names::label_names;
pub use lora::{lora_scaling, LoraMerge, LoraModuleMerge};
pub use model_config::{ModelConfig, MODEL_CONFIG};
pub use npy::NpyFile;
pub use safetensors_file::{SafetensorsFile, MAX_HEADER_LEN};
pub use tensor_view::TensorView;
