//! The one error type of the load stage.

use std::path::PathBuf;

/// Everything that can go wrong while reading a feature set or a checkpoint.
///
/// Every message starts with the file it concerns and, where there is one, names the
/// tensor or key and says what was expected and what was found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A file or directory could not be opened, mapped or read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// A file the input layout requires is absent.
    #[error("{}: {what} not found{hint}", path.display())]
    MissingFile {
        /// Where the file was looked for.
        path: PathBuf,
        /// What was looked for, e.g. `adapter_config.json`.
        what: String,
        /// Extra advice, starting with `; ` when not empty.
        hint: String,
    },

    /// The file is too short to hold the 8-byte header length of a safetensors file.
    #[error(
        "{}: file is {len} bytes, too short for a safetensors file (needs at least 8 bytes of header length)",
        path.display()
    )]
    TooShort {
        /// The file.
        path: PathBuf,
        /// Its length in bytes.
        len: u64,
    },

    /// The safetensors header length is below 2, above the limit or past the end of the file.
    #[error("{}: safetensors header length {header_len} is invalid: {reason}", path.display())]
    HeaderLength {
        /// The file.
        path: PathBuf,
        /// The little-endian `u64` at the start of the file.
        header_len: u64,
        /// Which bound it breaks.
        reason: String,
    },

    /// The safetensors header is not valid JSON.
    #[error("{}: safetensors header is not valid JSON: {source}", path.display())]
    HeaderJson {
        /// The file.
        path: PathBuf,
        /// The parser's error (line and column within the header).
        #[source]
        source: serde_json::Error,
    },

    /// The safetensors header is JSON but not a map of tensor entries.
    #[error("{}: safetensors header: {reason}", path.display())]
    Header {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// A tensor's header entry is malformed: missing or ill-typed `dtype`, `shape` or
    /// `data_offsets`, or a shape whose size overflows.
    #[error("{}: tensor `{tensor}`: {reason}", path.display())]
    TensorHeader {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// What is wrong.
        reason: String,
    },

    /// A tensor's `data_offsets` are reversed or run past the data section.
    #[error(
        "{}: tensor `{tensor}`: data_offsets [{begin}, {end}] {reason} (the data section is {data_len} bytes)",
        path.display()
    )]
    Offsets {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// First byte, relative to the data section.
        begin: u64,
        /// One past the last byte.
        end: u64,
        /// Length of the data section.
        data_len: u64,
        /// Which rule they break.
        reason: String,
    },

    /// A tensor's byte span does not match its dtype and shape.
    #[error(
        "{}: tensor `{tensor}`: {dtype} {shape:?} needs {expected} bytes but its data_offsets span {got}",
        path.display()
    )]
    ByteSize {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// Its dtype.
        dtype: String,
        /// Its shape.
        shape: Vec<usize>,
        /// `numel × dtype size`.
        expected: u64,
        /// `end − begin`.
        got: u64,
    },

    /// Two tensors claim the same bytes.
    #[error(
        "{}: tensors `{tensor}` and `{other}` overlap in the data section (from byte {at})",
        path.display()
    )]
    Overlap {
        /// The file.
        path: PathBuf,
        /// The tensor starting later.
        tensor: String,
        /// The tensor it overlaps.
        other: String,
        /// Where the overlap starts, relative to the data section.
        at: u64,
    },

    /// Part of the data section belongs to no tensor (the format forbids holes).
    #[error(
        "{}: bytes {begin}..{end} of the data section belong to no tensor (a safetensors file must index its data exactly)",
        path.display()
    )]
    Uncovered {
        /// The file.
        path: PathBuf,
        /// First uncovered byte, relative to the data section.
        begin: u64,
        /// One past the last uncovered byte.
        end: u64,
    },

    /// `__metadata__` (or a metadata key such as `label_names`) is malformed.
    #[error("{}: metadata `{key}`: {reason}", path.display())]
    Metadata {
        /// The file.
        path: PathBuf,
        /// `__metadata__` or the key inside it.
        key: String,
        /// What is wrong.
        reason: String,
    },

    /// A required tensor is absent.
    #[error("{}: no tensor `{tensor}` (the file holds: {found})", path.display())]
    MissingTensor {
        /// The file.
        path: PathBuf,
        /// The tensor looked for.
        tensor: String,
        /// A comma-separated sample of the tensors present.
        found: String,
    },

    /// A tensor's dtype cannot be used for what it holds.
    #[error("{}: tensor `{tensor}`: dtype {got} is not supported, expected {expected}", path.display())]
    Dtype {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// The accepted dtypes.
        expected: String,
        /// The dtype found.
        got: String,
    },

    /// A tensor's shape is not what its role requires.
    #[error("{}: tensor `{tensor}`: expected shape {expected}, got {got:?}", path.display())]
    Shape {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// The required shape, in words.
        expected: String,
        /// The shape found.
        got: Vec<usize>,
    },

    /// A tensor's row count disagrees with `features`.
    #[error("{}: tensor `{tensor}` has {got} rows but `features` has {expected}", path.display())]
    Rows {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// Rows of `features`.
        expected: usize,
        /// Rows of this tensor.
        got: usize,
    },

    /// A NaN or infinity in features, logits or head weights.
    #[error(
        "{}: tensor `{tensor}`: row {row}, column {col} is {value} (values must be finite)",
        path.display()
    )]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// First row holding a non-finite value.
        row: usize,
        /// Its column.
        col: usize,
        /// The value (NaN or ±inf).
        value: f32,
    },

    /// A label that is not a class index.
    #[error("{}: tensor `{tensor}`: row {row} has label {value}, expected {expected}", path.display())]
    Label {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// First bad row.
        row: usize,
        /// The label found.
        value: i64,
        /// The accepted range, in words.
        expected: String,
    },

    /// Features and head do not fit together.
    #[error("{}: tensor `{tensor}`: {what}: the head expects {expected}, the file has {got}", path.display())]
    HeadMismatch {
        /// The feature file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// The quantity compared.
        what: String,
        /// The head's value.
        expected: usize,
        /// The file's value.
        got: usize,
    },

    /// A malformed `.npy` file.
    #[error("{}: not a readable .npy file: {reason}", path.display())]
    Npy {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// A JSON configuration file (`adapter_config.json`, `config.json`) does not parse.
    #[error("{}: invalid JSON: {source}", path.display())]
    ConfigJson {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },

    /// A field of a JSON configuration file has the wrong type or value.
    #[error("{}: field `{field}`: {reason}", path.display())]
    ConfigField {
        /// The file.
        path: PathBuf,
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },

    /// No tensor key matches a known classification head.
    #[error(
        "{}: no classification head among its {count} tensors: expected `classifier.dense.weight` + \
         `classifier.out_proj.weight`, `score.weight` or `classifier.weight` (optionally under \
         `base_model.model.` and `modules_to_save.default.`); found e.g. {sample}",
        path.display()
    )]
    NoHead {
        /// The checkpoint file.
        path: PathBuf,
        /// Number of tensors in it.
        count: usize,
        /// A comma-separated sample of its keys.
        sample: String,
    },

    /// More than one head, or two copies of one head tensor at the same precedence.
    #[error("{}: ambiguous head: {reason}", path.display())]
    AmbiguousHead {
        /// The checkpoint file.
        path: PathBuf,
        /// What conflicts, naming the keys.
        reason: String,
    },

    /// A head tensor is missing (e.g. `out_proj` without `dense`).
    #[error("{}: the {kind} head is incomplete: no `{missing}` (found {found})", path.display())]
    IncompleteHead {
        /// The checkpoint file.
        path: PathBuf,
        /// `dense` or `linear`.
        kind: String,
        /// The canonical key that is missing.
        missing: String,
        /// The head keys that were found.
        found: String,
    },

    /// The head carries LoRA factors but its base weight is not in the file.
    #[error(
        "{}: the head module `{module}` carries LoRA factors (`{lora_key}`) but not its base weight \
         `{module}.weight`; a LoRA'd head that is not in `modules_to_save` keeps its base weight in \
         the base model, and {note}: pass a safetensors file of the full model (merged, or with \
         the LoRA keys) as the checkpoint, or train with the head in `modules_to_save`",
        path.display()
    )]
    BaseWeightMissing {
        /// The checkpoint file.
        path: PathBuf,
        /// Canonical module name, e.g. `score`.
        module: String,
        /// One of the LoRA keys found.
        lora_key: String,
        /// Why the base model could not supply it.
        note: String,
    },

    /// LoRA factors that cannot be merged (shapes, missing factor or config, DoRA).
    #[error("{}: LoRA on `{module}`: {reason}", path.display())]
    Lora {
        /// The checkpoint file.
        path: PathBuf,
        /// Canonical module name.
        module: String,
        /// What is wrong.
        reason: String,
    },
}

impl LoadError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        LoadError::Io {
            path: path.into(),
            source,
        }
    }
}

/// A comma-separated list of at most `max` names, with `(+k more)` when cut.
pub(crate) fn sample_list<'a>(names: impl IntoIterator<Item = &'a str>, max: usize) -> String {
    let all: Vec<&str> = names.into_iter().collect();
    if all.is_empty() {
        return "nothing".to_string();
    }
    let shown: Vec<String> = all.iter().take(max).map(|n| format!("`{n}`")).collect();
    let mut s = shown.join(", ");
    if all.len() > max {
        s.push_str(&format!(" (+{} more)", all.len() - max));
    }
    s
}
