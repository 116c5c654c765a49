//! Whole-file reads with a size cap, for the side files that are parsed in memory (JSON,
//! ONNX, scores): a hostile or mistaken path (a multi-gigabyte file, `/dev/zero`) must give
//! an error, not exhaust memory.

use std::io::Read;
use std::path::Path;

/// Cap for JSON side files (`adapter_config.json`, grids, reports): far above any real one.
pub const MAX_JSON_BYTES: u64 = 64 << 20;

/// Cap for files decoded as a whole (ONNX models, `scores.safetensors`): protobuf's own
/// 2 GiB message limit.
pub const MAX_MODEL_BYTES: u64 = 2 << 30;

/// Reads all of `path`, or fails with `InvalidData` once it has more than `limit` bytes
/// (checked on the bytes read, so pipes and devices are bounded too).
pub fn read_capped(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let hint = file.metadata().map_or(0, |m| m.len()).min(limit);
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than the {} MiB this file may have", limit >> 20),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_cap_and_refuses_more() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, [7u8; 100]).unwrap();
        assert_eq!(read_capped(&p, 100).unwrap().len(), 100);
        let e = read_capped(&p, 99).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        // An endless device stops at the cap.
        let e = read_capped(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(e.to_string().contains("larger than the 1 MiB"), "{e}");
    }
}
