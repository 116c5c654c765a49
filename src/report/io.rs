//! Reading and writing `report.json`: pretty JSON with a final newline, validated against
//! the schema on the way out and on the way in, written atomically.

use std::path::Path;

use super::schema::validate_value;
use super::{Report, ReportError};
use crate::load::{read_capped, MAX_JSON_BYTES};

impl Report {
    /// The report as pretty JSON (keys in a fixed order, so identical reports give
    /// identical bytes), after checking it against the schema.
    pub fn to_json(&self) -> Result<String, ReportError> {
        let value = serde_json::to_value(self)?;
        validate_value(&value)?;
        let mut s = serde_json::to_string_pretty(&value)?;
        s.push('\n');
        Ok(s)
    }

    /// Writes `report.json` atomically.
    pub fn write(&self, path: &Path) -> Result<(), ReportError> {
        let json = self.to_json()?;
        crate::output::write_atomic(path, json.as_bytes())?;
        Ok(())
    }

    /// Reads and validates a `report.json`.
    pub fn read(path: &Path) -> Result<Report, ReportError> {
        let bytes = read_capped(path, MAX_JSON_BYTES).map_err(|source| ReportError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json_bytes(path, &bytes)
    }

    /// Parses and validates the contents of a `report.json`, as [`Report::read`] does;
    /// `path` only names the file in parse errors.
    pub fn from_json_bytes(path: &Path, bytes: &[u8]) -> Result<Report, ReportError> {
        let parse = |source| ReportError::Parse {
            path: path.to_path_buf(),
            source,
        };
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(parse)?;
        validate_value(&value)?;
        serde_json::from_value(value).map_err(parse)
    }
}
