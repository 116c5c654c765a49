//! Validation of `report.json` against `schemas/report.schema.json` (JSON Schema draft
//! 2020-12), which is compiled into the binary.

use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::Value;

use super::ReportError;

/// The schema text (`schemas/report.schema.json`).
pub const REPORT_SCHEMA: &str = include_str!("../../schemas/report.schema.json");

/// The compiled schema, built once; `Err` holds why it did not compile (a bug, tested).
fn validator() -> Result<&'static Validator, ReportError> {
    static V: OnceLock<Result<Validator, String>> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(REPORT_SCHEMA).map_err(|e| e.to_string())?;
        jsonschema::draft202012::new(&schema).map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| ReportError::Schema {
        errors: vec![format!("schemas/report.schema.json does not compile: {e}")],
    })
}

/// Checks a JSON value against the report schema; every violation is listed with its
/// JSON path.
pub fn validate_value(report: &Value) -> Result<(), ReportError> {
    let errors: Vec<String> = validator()?
        .iter_errors(report)
        .map(|e| format!("at `{}`: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ReportError::Schema { errors })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_compiles_and_rejects_with_paths() {
        assert!(validator().is_ok());
        let e = validate_value(&serde_json::json!({"schema_version": "0.9"})).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("at ``") || msg.contains("at `/schema_version`"),
            "{msg}"
        );
        assert!(msg.contains("schema_version"), "{msg}");
    }
}
