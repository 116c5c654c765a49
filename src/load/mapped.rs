//! The bytes of input files: read-only memory maps, or bytes already in memory.

use std::ops::Deref;
use std::path::Path;

use memmap2::Mmap;

use super::error::LoadError;

/// The whole contents of an input file: mapped from disk ([`map_file`]), or handed over
/// in memory (the `from_bytes` constructors, which the fuzz targets use). Both are parsed
/// by the same code.
#[derive(Debug)]
pub(crate) enum FileBytes {
    /// A read-only map of the file.
    Mapped(Mmap),
    /// The file's bytes, owned.
    Owned(Vec<u8>),
}

impl Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Owned(v) => v,
        }
    }
}

/// Maps `path` read-only. An empty file gives an empty map. Only regular files (or links
/// to them) are accepted: opening a FIFO would block until a writer appears, and pipes and
/// devices cannot be mapped.
pub(crate) fn map_file(path: &Path) -> Result<FileBytes, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| LoadError::io(path, e))?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "a FIFO, socket or device"
        };
        return Err(LoadError::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("not a regular file ({kind})"),
            ),
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
    // SAFETY: the map is read-only and private to this process. Memory maps are only unsound
    // if another process truncates or rewrites the file while it is mapped; input files are
    // not modified while the tool runs, and every access below is bounds-checked against the
    // length the map had when it was created.
    let map = unsafe { Mmap::map(&file) }.map_err(|e| LoadError::io(path, e))?;
    Ok(FileBytes::Mapped(map))
}
