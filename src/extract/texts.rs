//! Labelled texts: a JSON Lines file of `{"text": str, "label": int}` objects.
//!
//! The file is streamed, one line at a time, each line at most [`MAX_LINE_BYTES`] long, so a
//! hostile file (a multi-gigabyte line, `/dev/zero`) costs bounded memory. Policy:
//! - every line must be valid UTF-8 and one JSON object with a string `"text"` and an
//!   integer `"label"` in `0..C` (C from the checkpoint's head); other keys are ignored;
//! - lines holding only whitespace (a trailing empty line, `\r\n` endings) are skipped, as
//!   Python's `json.loads` loop in `scripts/cache_features.py` does; rows keep file order;
//! - a UTF-8 byte-order mark at the start of the file is skipped;
//! - a file without any row is an error.
//!
//! Errors name the file and the 1-based line number and say what was wrong.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::ExtractError;

/// Longest line accepted (bytes, newline excluded). A classifier sees a few hundred tokens;
/// a longer line is almost surely not a text row.
pub const MAX_LINE_BYTES: usize = 8 << 20;

/// The UTF-8 byte-order mark some editors write at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One row of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextRow {
    /// 1-based line number in the file.
    pub line: usize,
    /// The text.
    pub text: String,
    /// Gold class index, below the head's class count.
    pub label: usize,
}

/// A streaming reader of a labelled-texts JSONL file.
pub struct JsonlReader<R> {
    path: PathBuf,
    reader: R,
    classes: usize,
    line: usize,
    rows: usize,
    buf: Vec<u8>,
}

impl JsonlReader<BufReader<File>> {
    /// Opens `path` (a regular file) for rows whose labels lie in `0..classes`.
    pub fn open(path: &Path, classes: usize) -> Result<Self, ExtractError> {
        let io = |source| ExtractError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if !meta.is_file() {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file (expected a JSONL file of labelled texts)",
            )));
        }
        let file = File::open(path).map_err(io)?;
        Ok(Self::new(BufReader::new(file), path, classes))
    }
}

impl<R: BufRead> JsonlReader<R> {
    /// A reader of `reader`, whose errors name `path`.
    pub fn new(reader: R, path: &Path, classes: usize) -> Self {
        JsonlReader {
            path: path.to_path_buf(),
            reader,
            classes,
            line: 0,
            rows: 0,
            buf: Vec::new(),
        }
    }

    /// The next row; `Ok(None)` at the end of a file that had at least one row.
    pub fn next_row(&mut self) -> Result<Option<TextRow>, ExtractError> {
        let classes = self.classes;
        loop {
            let Some(raw) = self.next_line()? else {
                if self.rows == 0 {
                    return Err(ExtractError::NoTexts {
                        path: self.path.clone(),
                    });
                }
                return Ok(None);
            };
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let row = parse_row(raw, classes).map_err(|reason| ExtractError::TextLine {
                path: self.path.clone(),
                line: self.line,
                reason,
            })?;
            self.rows += 1;
            return Ok(Some(TextRow {
                line: self.line,
                text: row.0,
                label: row.1,
            }));
        }
    }

    /// The next line without its newline, or `None` at the end of the file.
    fn next_line(&mut self) -> Result<Option<&[u8]>, ExtractError> {
        self.buf.clear();
        let cap = MAX_LINE_BYTES as u64 + 1;
        let n = (&mut self.reader)
            .take(cap)
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| ExtractError::Io {
                path: self.path.clone(),
                source,
            })?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        }
        if self.buf.len() > MAX_LINE_BYTES {
            return Err(ExtractError::TextLine {
                path: self.path.clone(),
                line: self.line,
                reason: format!(
                    "line is longer than {} MiB (one JSON object per line expected)",
                    MAX_LINE_BYTES >> 20
                ),
            });
        }
        let mut raw = self.buf.as_slice();
        if self.line == 1 {
            raw = raw.strip_prefix(BOM).unwrap_or(raw);
        }
        Ok(Some(raw))
    }
}

/// `(text, label)` of one non-blank line, or what is wrong with it.
fn parse_row(raw: &[u8], classes: usize) -> Result<(String, usize), String> {
    let s = std::str::from_utf8(raw).map_err(|e| {
        format!(
            "not valid UTF-8 (invalid byte at column {}); texts must be UTF-8",
            e.valid_up_to() + 1
        )
    })?;
    let value: Value = serde_json::from_str(s).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(mut obj) = value else {
        return Err(format!(
            "expected a JSON object {{\"text\": ..., \"label\": ...}}, got {}",
            kind(&value)
        ));
    };
    let text = match obj.remove("text") {
        Some(Value::String(t)) => t,
        Some(other) => return Err(format!("\"text\" must be a string, got {}", kind(&other))),
        None => return Err("no \"text\" key".to_string()),
    };
    let range = format!("an integer class index in 0..{}", classes.saturating_sub(1));
    let label = match obj.get("label") {
        None | Some(Value::Null) => return Err(format!("no \"label\" (expected {range})")),
        Some(Value::Number(n)) => match (n.as_u64(), n.as_i64()) {
            (Some(v), _) if (v as u128) < classes as u128 => v as usize,
            (Some(_), _) | (None, Some(_)) => {
                return Err(format!(
                "\"label\" {n} is out of range: expected {range} (the head has {classes} classes)"
            ))
            }
            (None, None) => {
                return Err(format!("\"label\" {n} is not an integer: expected {range}"))
            }
        },
        Some(other) => return Err(format!("\"label\" must be {range}, got {}", kind(other))),
    };
    Ok((text, label))
}

/// What a JSON value is, for messages.
fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(_) => "a string".to_string(),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(data: &[u8], classes: usize) -> Result<Vec<TextRow>, String> {
        let mut r = JsonlReader::new(data, Path::new("t.jsonl"), classes);
        let mut out = Vec::new();
        while let Some(row) = r.next_row().map_err(|e| e.to_string())? {
            out.push(row);
        }
        Ok(out)
    }

    #[test]
    fn reads_rows_skips_blank_lines_bom_and_crlf() {
        let data = b"\xEF\xBB\xBF{\"text\": \"a\", \"label\": 1}\r\n\n  \n{\"label\": 0, \"text\": \"\xC2\xA3 b\", \"id\": 7}\n";
        let got = rows(data, 2).unwrap();
        assert_eq!(
            got,
            [
                TextRow {
                    line: 1,
                    text: "a".into(),
                    label: 1
                },
                TextRow {
                    line: 4,
                    text: "£ b".into(),
                    label: 0
                }
            ]
        );
        // No newline at the end of the last line.
        assert_eq!(rows(b"{\"text\":\"x\",\"label\":0}", 1).unwrap().len(), 1);
    }

    #[test]
    fn every_bad_line_names_file_line_and_problem() {
        let cases: [(&[u8], &str); 13] = [
            (b"", "t.jsonl: no rows"),
            (b"\n \n", "t.jsonl: no rows"),
            (b"{\"text\": \"a\", \"label\": 0}\n{\"text\": \"b\"}\n", "t.jsonl:2: no \"label\""),
            (b"{\"text\": \"a\", \"label\": 3}", "t.jsonl:1: \"label\" 3 is out of range: expected an integer class index in 0..2 (the head has 3 classes)"),
            (b"{\"text\": \"a\", \"label\": -1}", "\"label\" -1 is out of range"),
            (b"{\"text\": \"a\", \"label\": 1.0}", "\"label\" 1.0 is not an integer"),
            (b"{\"text\": \"a\", \"label\": true}", "\"label\" must be an integer class index in 0..2, got a boolean (true)"),
            (b"{\"text\": \"a\", \"label\": \"1\"}", "got a string"),
            (b"{\"text\": 5, \"label\": 1}", "\"text\" must be a string, got a number (5)"),
            (b"{\"label\": 1}", "no \"text\" key"),
            (b"[1, 2]", "expected a JSON object {\"text\": ..., \"label\": ...}, got an array"),
            (b"{\"text\": \"a\", \"label\": 1", "t.jsonl:1: not valid JSON: EOF while parsing"),
            (b"{\"text\": \"a\xFF\", \"label\": 1}", "t.jsonl:1: not valid UTF-8 (invalid byte at column 12)"),
        ];
        for (data, want) in cases {
            let e = rows(data, 3).unwrap_err();
            assert!(e.contains(want), "{:?}: {e}", String::from_utf8_lossy(data));
        }
        let e = rows(b"{\"text\": \"a\", \"label\": 18446744073709551616}", 3).unwrap_err();
        assert!(
            e.contains("is not an integer") || e.contains("out of range"),
            "{e}"
        );
    }

    #[test]
    fn a_line_over_the_cap_is_refused_without_reading_further() {
        let mut data = b"{\"text\": \"".to_vec();
        data.resize(MAX_LINE_BYTES + 10, b'a');
        let e = rows(&data, 2).unwrap_err();
        assert!(e.contains("t.jsonl:1: line is longer than 8 MiB"), "{e}");
        let endless = std::io::BufReader::new(std::io::repeat(b'x'));
        let mut r = JsonlReader::new(endless, Path::new("z"), 2);
        assert!(r
            .next_row()
            .unwrap_err()
            .to_string()
            .contains("longer than"));
    }
}
