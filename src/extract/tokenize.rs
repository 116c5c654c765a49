//! Tokenization with the user's `tokenizer.json` (the `tokenizers` crate, offline).
//!
//! The file's normalizer, pre-tokenizer, model and post-processor are used as they are, so
//! special tokens are added exactly as its post-processor says (`[CLS] … [SEP]` for BERT,
//! none when it has no post-processor). Two settings are replaced:
//! - truncation: at `--max-length` when given, else at the file's own `max_length`, keeping
//!   the file's direction (longest-first, no stride: one window per text);
//! - padding: the file's (often `Fixed 128`) is disabled; batches are padded by
//!   [`super::batch`] to their longest row with the file's pad id (its padding config, else
//!   the `[PAD]` or `<pad>` token), on the file's padding side (default right).

use std::path::{Path, PathBuf};

use tokenizers::{
    PaddingDirection, PostProcessor, Tokenizer, TruncationDirection, TruncationParams,
    TruncationStrategy,
};

use super::error::ExtractError;
use super::texts::TextRow;
use crate::load::{read_capped, MAX_JSON_BYTES};

/// Tokens the pad id is looked up by when the file has no padding config.
pub const PAD_TOKENS: [&str; 2] = ["[PAD]", "<pad>"];

/// The token ids of one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// Token ids, special tokens included.
    pub ids: Box<[u32]>,
    /// Token type ids (segment ids); `None` when all are 0 (every single-text template
    /// but a few).
    pub type_ids: Option<Box<[u32]>>,
}

impl Tokens {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the text gave no token at all.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A `tokenizer.json` ready to encode single texts for a classifier.
pub struct TextTokenizer {
    path: PathBuf,
    inner: Tokenizer,
    /// Id padded positions get.
    pub pad_id: u32,
    /// Whether padding goes on the left (the file's padding side).
    pub pad_left: bool,
    /// Longest encoding, special tokens included.
    pub max_length: usize,
    /// Special tokens the post-processor adds to a single text.
    pub special_tokens: usize,
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer")
            .field("path", &self.path)
            .field("pad_id", &self.pad_id)
            .field("pad_left", &self.pad_left)
            .field("max_length", &self.max_length)
            .field("special_tokens", &self.special_tokens)
            .finish()
    }
}

impl TextTokenizer {
    /// Reads `path` (at most 64 MiB). `max_length` overrides the file's truncation length.
    pub fn read(path: &Path, max_length: Option<usize>) -> Result<Self, ExtractError> {
        let bytes = read_capped(path, MAX_JSON_BYTES).map_err(|source| ExtractError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(path, &bytes, max_length)
    }

    /// Parses the contents of the `tokenizer.json` at `path` (named in errors).
    pub fn from_bytes(
        path: &Path,
        bytes: &[u8],
        max_length: Option<usize>,
    ) -> Result<Self, ExtractError> {
        let bad = |reason: String| ExtractError::Tokenizer {
            path: path.to_path_buf(),
            reason,
        };
        let mut inner = Tokenizer::from_bytes(bytes).map_err(|e| {
            bad(format!(
                "not a tokenizer.json the `tokenizers` library can load: {e}"
            ))
        })?;
        let special_tokens = inner
            .get_post_processor()
            .map_or(0, |p| p.added_tokens(false));
        let file_truncation = inner.get_truncation().cloned();
        let max_length = match (max_length, &file_truncation) {
            (Some(n), _) => n,
            (None, Some(t)) => t.max_length,
            (None, None) => return Err(bad(
                "the file sets no truncation and --max-length is not given: pass --max-length N \
                     (the length the classifier was fine-tuned with)"
                    .to_string(),
            )),
        };
        if max_length <= special_tokens {
            return Err(bad(format!(
                "max length {max_length} leaves no room for text: the post-processor adds \
                 {special_tokens} special tokens to every text"
            )));
        }
        let direction = file_truncation.map_or(TruncationDirection::Right, |t| t.direction);
        inner
            .with_truncation(Some(TruncationParams {
                direction,
                max_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| bad(format!("cannot truncate at {max_length}: {e}")))?;
        let (pad_id, pad_left) = match inner.get_padding() {
            Some(p) => (p.pad_id, matches!(p.direction, PaddingDirection::Left)),
            None => {
                let id = PAD_TOKENS.iter().find_map(|t| inner.token_to_id(t));
                let id = id.ok_or_else(|| {
                    bad(format!(
                        "no padding config and no {} token: cannot pad batches (add a \
                         \"padding\" section with the model's pad_id)",
                        PAD_TOKENS.join(" or ")
                    ))
                })?;
                (id, false)
            }
        };
        inner.with_padding(None);
        Ok(TextTokenizer {
            path: path.to_path_buf(),
            inner,
            pad_id,
            pad_left,
            max_length,
            special_tokens,
        })
    }

    /// Encodes `rows` (in parallel on the current rayon pool). A text that gives no token
    /// is an error naming its line of `texts`.
    pub fn encode(&self, rows: &[TextRow], texts: &Path) -> Result<Vec<Tokens>, ExtractError> {
        let inputs: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
        let encodings = self.inner.encode_batch(inputs, true).map_err(|e| {
            // `encode_batch` reports one error for the batch: find the row again.
            let line = rows
                .iter()
                .find(|r| self.inner.encode(r.text.as_str(), true).is_err())
                .map_or(0, |r| r.line);
            ExtractError::TextLine {
                path: texts.to_path_buf(),
                line,
                reason: format!("cannot tokenize with {}: {e}", self.path.display()),
            }
        })?;
        let mut out = Vec::with_capacity(encodings.len());
        for (row, e) in rows.iter().zip(encodings) {
            if e.get_ids().is_empty() {
                return Err(ExtractError::TextLine {
                    path: texts.to_path_buf(),
                    line: row.line,
                    reason: format!(
                        "the text gives no token with {} (empty text, no special tokens)",
                        self.path.display()
                    ),
                });
            }
            let types = e.get_type_ids();
            out.push(Tokens {
                ids: e.get_ids().into(),
                type_ids: types.iter().any(|&t| t != 0).then(|| types.into()),
            });
        }
        Ok(out)
    }
}
