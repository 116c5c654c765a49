//! Reading small JSON side files (`adapter_config.json`, `config.json`, `metadata.json`).

use std::path::Path;

use serde_json::Value;

use super::capped_read::{read_capped, MAX_JSON_BYTES};
use super::error::LoadError;

/// Reads and parses `path`; a parse error names the file, line and column.
pub(crate) fn read_json(path: &Path) -> Result<Value, LoadError> {
    let bytes = read_capped(path, MAX_JSON_BYTES).map_err(|e| LoadError::io(path, e))?;
    parse_json(path, &bytes)
}

/// Parses the contents of the JSON file `path` (only used in errors).
pub(crate) fn parse_json(path: &Path, bytes: &[u8]) -> Result<Value, LoadError> {
    serde_json::from_slice(bytes).map_err(|source| LoadError::ConfigJson {
        path: path.to_path_buf(),
        source,
    })
}
