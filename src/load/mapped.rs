//! Read-only memory maps of input files.

use std::path::Path;

use memmap2::Mmap;

use super::error::LoadError;

/// Maps `path` read-only. An empty file gives an empty map. Only regular files (or links
/// to them) are accepted: opening a FIFO would block until a writer appears, and pipes and
/// devices cannot be mapped.
pub(crate) fn map_file(path: &Path) -> Result<Mmap, LoadError> {
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
    unsafe { Mmap::map(&file) }.map_err(|e| LoadError::io(path, e))
}
