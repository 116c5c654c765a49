//! From the tensor the head consumes to one feature row per text, as the head does.

use serde::Serialize;

/// How a batch of the head's input becomes one row per text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// The head input is already `[B, D]` (BERT's pooled output, a RoBERTa head after the
    /// graph's own token-0 slice): used as is.
    AsIs,
    /// `[B, T, D]`, the head reads token 0 (`<s>` / `[CLS]`): dense and `classifier` heads.
    FirstToken,
    /// `[B, T, D]`, the head reads the last real token: decoder `score` heads. The last
    /// position whose attention mask is 1, which is the last non-pad token with right
    /// padding (transformers' rule) and position `T − 1` with left padding.
    LastToken,
}

impl Pooling {
    /// The machine-readable name (`as_is`, `first_token`, `last_token`), as serialized.
    pub fn name(self) -> &'static str {
        match self {
            Pooling::AsIs => "as_is",
            Pooling::FirstToken => "first_token",
            Pooling::LastToken => "last_token",
        }
    }

    /// A short description for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Pooling::AsIs => "as is ([B, D] head input)",
            Pooling::FirstToken => "token 0",
            Pooling::LastToken => "last non-pad token",
        }
    }

    /// The pooling for a head input of `rank` (2 or 3) feeding a head that reads the last
    /// token (`last_token`: a decoder `score` head) or token 0 (dense and `classifier` heads);
    /// `None` for another rank.
    pub fn for_rank(rank: usize, last_token: bool) -> Option<Pooling> {
        match (rank, last_token) {
            (2, _) => Some(Pooling::AsIs),
            (3, false) => Some(Pooling::FirstToken),
            (3, true) => Some(Pooling::LastToken),
            _ => None,
        }
    }

    /// The position this pooling reads in a row with attention mask `mask` (`None` for
    /// [`Pooling::AsIs`], or a row without any real token).
    pub fn position(self, mask: &[i64]) -> Option<usize> {
        match self {
            Pooling::AsIs => None,
            Pooling::FirstToken => (!mask.is_empty()).then_some(0),
            Pooling::LastToken => mask.iter().rposition(|&m| m != 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_for_right_and_left_padding() {
        assert_eq!(Pooling::LastToken.position(&[1, 1, 1, 0, 0]), Some(2));
        assert_eq!(Pooling::LastToken.position(&[0, 0, 1, 1, 1]), Some(4));
        assert_eq!(Pooling::LastToken.position(&[0, 0]), None);
        assert_eq!(Pooling::FirstToken.position(&[1, 0]), Some(0));
        assert_eq!(Pooling::AsIs.position(&[1]), None);
        assert_eq!(Pooling::for_rank(2, true), Some(Pooling::AsIs));
        assert_eq!(Pooling::for_rank(3, false), Some(Pooling::FirstToken));
        assert_eq!(Pooling::for_rank(3, true), Some(Pooling::LastToken));
        assert_eq!(Pooling::for_rank(4, true), None);
    }
}
