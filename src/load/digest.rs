//! SHA-256 digests of input files, recorded so that a report names exactly what it read.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::LoadError;

/// One file read by the load stage, with its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputFile {
    /// The file as it was given or found.
    pub path: PathBuf,
    /// Lower-case hex SHA-256 of its bytes.
    pub sha256: String,
}

impl InputFile {
    /// Digests `path`.
    pub fn digest(path: &Path) -> Result<Self, LoadError> {
        Ok(InputFile {
            path: path.to_path_buf(),
            sha256: sha256_file(path)?,
        })
    }
}

/// Lower-case hex SHA-256 of a file, read in 1 MiB blocks (never whole into memory).
pub fn sha256_file(path: &Path) -> Result<String, LoadError> {
    let mut file = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(LoadError::io(path, e)),
        };
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// SHA-256 of several files as one input: the digest of their `sha256sum`-style listing,
/// `"<hex>  <file name>\n"` per file in the given order. Used for a directory of `.npy` files.
pub fn sha256_manifest(files: &[InputFile]) -> String {
    let mut hasher = Sha256::new();
    for f in files {
        let name = f
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        hasher.update(format!("{}  {}\n", f.sha256, name).as_bytes());
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        // Writing into a String cannot fail.
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_known_vector() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc.txt");
        std::fs::write(&p, b"abc").unwrap();
        // FIPS 180-2 test vector for "abc".
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn digest_of_missing_file_names_it() {
        let err = sha256_file(Path::new("/nonexistent/x.safetensors")).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/x.safetensors"),
            "{err}"
        );
    }
}
