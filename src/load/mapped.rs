//! Read-only memory maps of input files.

use std::path::Path;

use memmap2::{Mmap, UncheckedAdvice};

use super::error::LoadError;

/// Maps `path` read-only. An empty file gives an empty map.
pub(crate) fn map_file(path: &Path) -> Result<Mmap, LoadError> {
    let file = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
    // SAFETY: the map is read-only and private to this process. Memory maps are only unsound
    // if another process truncates or rewrites the file while it is mapped; input files are
    // not modified while the tool runs, and every access below is bounds-checked against the
    // length the map had when it was created.
    unsafe { Mmap::map(&file) }.map_err(|e| LoadError::io(path, e))
}

/// Drops the pages holding `part`, a sub-slice of `map`, from this process's resident set,
/// once their bytes have been decoded into an array of their own: a large tensor is then
/// resident once (the array), not twice (array and mapped file). Reading `part` again later
/// faults the pages back in from the file. Does nothing when `part` is not inside `map`;
/// pages are only a hint to the kernel, so a failure is ignored.
pub(crate) fn release(map: &Mmap, part: &[u8]) {
    let offset = (part.as_ptr() as usize).wrapping_sub(map.as_ptr() as usize);
    if part.is_empty() || offset > map.len() || map.len() - offset < part.len() {
        return;
    }
    // SAFETY: `map` is a read-only shared mapping of a file (see `map_file`), never written
    // by this process, so MADV_DONTNEED discards no data: the next access to these pages
    // reads the same bytes from the file, under the same assumption as `map_file` (the file
    // is not modified while the tool runs). The range is inside the map (checked above).
    let _ = unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, offset, part.len()) };
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
        release(&map, &map[100..9000]);
        assert_eq!(&map[..], &bytes[..]);
        release(&map, &map[..]);
        assert_eq!(&map[..], &bytes[..]);
        release(&map, &bytes[..10]);
        assert_eq!(&map[..], &bytes[..]);
    }
}
