//! Provenance of the report: what went in (path, size, SHA-256) and what made it.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One input file, as recorded under `inputs.<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// The path as given on the command line.
    pub path: String,
    /// Lower-case hex SHA-256 of the file's bytes (of the manifest for a `.npy` directory).
    pub sha256: String,
}

impl From<&crate::load::InputFile> for InputFile {
    fn from(f: &crate::load::InputFile) -> Self {
        InputFile {
            path: f.path.display().to_string(),
            sha256: f.sha256.clone(),
        }
    }
}

impl InputFile {
    /// Hashes `path` with the loader's streaming SHA-256.
    pub fn hash(path: &Path) -> Result<InputFile, crate::load::LoadError> {
        Ok(InputFile::from(&crate::load::InputFile::digest(path)?))
    }
}

/// The tool that wrote the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    /// `adue-compile`.
    pub name: String,
    /// The crate version.
    pub version: String,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_path_and_digest() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc.txt");
        std::fs::write(&p, b"abc").unwrap();
        let f = InputFile::hash(&p).unwrap();
        // FIPS 180-2 test vector for "abc".
        assert_eq!(
            f.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(f.path.ends_with("abc.txt"));
    }
}
