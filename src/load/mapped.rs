//! The bytes of input files: read-only memory maps, or bytes already in memory.

use std::ops::Deref;
use std::path::Path;

use memmap2::{Mmap, UncheckedAdvice};

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

impl FileBytes {
    /// Drops the pages holding `part`, a sub-slice of these bytes, from this process's
    /// resident set, once they have been decoded into an array of their own: a large tensor
    /// is then resident once (the array), not twice (array and mapped file). Reading `part`
    /// again later faults the pages back in from the file. Does nothing for bytes owned in
    /// memory or when `part` is not inside the map; the advice is only a hint to the kernel,
    /// so a failure is ignored.
    pub(crate) fn release(&self, part: &[u8]) {
        let FileBytes::Mapped(map) = self else {
            return;
        };
        let offset = (part.as_ptr() as usize).wrapping_sub(map.as_ptr() as usize);
        if part.is_empty() || offset > map.len() || map.len() - offset < part.len() {
            return;
        }
        // SAFETY: `map` is a read-only shared mapping of a file (see `map_file`), never
        // written by this process, so MADV_DONTNEED discards no data: the next access to these
        // pages reads the same bytes from the file, under the same assumption as `map_file`
        // (the file is not modified while the tool runs). The range is inside the map
        // (checked above).
        let _ =
            unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, offset, part.len()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_pages_read_back_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.bin");
        let bytes: Vec<u8> = (0..3 * 4096 + 17).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(&p, &bytes).unwrap();
        let map = map_file(&p).unwrap();
        assert_eq!(&map[..], &bytes[..]);
        // An unaligned interior range, the whole map, and a slice from elsewhere (ignored).
        map.release(&map[100..9000]);
        assert_eq!(&map[..], &bytes[..]);
        map.release(&map[..]);
        assert_eq!(&map[..], &bytes[..]);
        map.release(&bytes[..10]);
        assert_eq!(&map[..], &bytes[..]);
        // Owned bytes are left alone (advising heap memory away would zero it).
        let owned = FileBytes::Owned(bytes.clone());
        owned.release(&owned[..]);
        assert_eq!(&owned[..], &bytes[..]);
    }
}
