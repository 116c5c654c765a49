//! Length-sorted batching and padding.
//!
//! Rows are sorted by token count (longest first, ties in file order), cut into batches of
//! at most `batch_size` rows and padded to the batch's longest row, so that little of the
//! model's work is spent on padding; each batch remembers the rows it holds so results go
//! back to file order. Without an attention mask in the model, padding would change the
//! results, so batches then only hold rows of one length.

use super::tokenize::Tokens;

/// The rows (indices into the token list) of each batch, longest rows first.
pub fn plan(lengths: &[usize], batch_size: usize, same_length: bool) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    // Stable: equal lengths keep file order, so the plan is deterministic.
    order.sort_by(|&a, &b| lengths[b].cmp(&lengths[a]));
    let mut batches: Vec<Vec<usize>> = Vec::new();
    for i in order {
        match batches.last_mut() {
            Some(b)
                if b.len() < batch_size.max(1) && (!same_length || lengths[b[0]] == lengths[i]) =>
            {
                b.push(i)
            }
            _ => batches.push(vec![i]),
        }
    }
    batches
}

/// The model inputs of one batch, row-major `[rows, width]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Padded {
    /// Rows in the batch.
    pub rows: usize,
    /// Tokens per row after padding (the longest row's count).
    pub width: usize,
    /// Token ids, pad id at padded positions.
    pub input_ids: Vec<i64>,
    /// 1 at real tokens, 0 at padding.
    pub attention_mask: Vec<i64>,
    /// Token type ids, 0 at padding.
    pub token_type_ids: Vec<i64>,
}

impl Padded {
    /// The attention mask of row `r`.
    pub fn mask_row(&self, r: usize) -> &[i64] {
        &self.attention_mask[r * self.width..(r + 1) * self.width]
    }
}

/// Pads `rows` to their longest row with `pad_id`, on the right or (`left`) on the left.
pub fn pad(rows: &[&Tokens], pad_id: u32, left: bool) -> Padded {
    let width = rows.iter().map(|t| t.len()).max().unwrap_or(0);
    let n = rows.len() * width;
    let mut p = Padded {
        rows: rows.len(),
        width,
        input_ids: vec![i64::from(pad_id); n],
        attention_mask: vec![0; n],
        token_type_ids: vec![0; n],
    };
    for (r, t) in rows.iter().enumerate() {
        let start = r * width + if left { width - t.len() } else { 0 };
        for (k, &id) in t.ids.iter().enumerate() {
            p.input_ids[start + k] = i64::from(id);
            p.attention_mask[start + k] = 1;
        }
        if let Some(types) = &t.type_ids {
            for (k, &ty) in types.iter().enumerate() {
                p.token_type_ids[start + k] = i64::from(ty);
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(ids: &[u32]) -> Tokens {
        Tokens {
            ids: ids.into(),
            type_ids: None,
        }
    }

    #[test]
    fn plan_sorts_longest_first_keeps_ties_in_order_and_covers_every_row() {
        let lengths = [3, 5, 3, 1, 5, 2];
        assert_eq!(
            plan(&lengths, 2, false),
            [vec![1, 4], vec![0, 2], vec![5, 3]]
        );
        assert_eq!(
            plan(&lengths, 4, true),
            [vec![1, 4], vec![0, 2], vec![5], vec![3]]
        );
        assert_eq!(plan(&lengths, 100, false), [vec![1, 4, 0, 2, 5, 3]]);
        assert!(plan(&[], 8, false).is_empty());
    }

    #[test]
    fn pad_right_and_left_with_masks_and_type_ids() {
        let a = tokens(&[101, 7, 102]);
        let b = Tokens {
            ids: [101, 102].into(),
            type_ids: Some([0, 1].into()),
        };
        let p = pad(&[&a, &b], 0, false);
        assert_eq!((p.rows, p.width), (2, 3));
        assert_eq!(p.input_ids, [101, 7, 102, 101, 102, 0]);
        assert_eq!(p.attention_mask, [1, 1, 1, 1, 1, 0]);
        assert_eq!(p.token_type_ids, [0, 0, 0, 0, 1, 0]);
        let p = pad(&[&a, &b], 9, true);
        assert_eq!(p.input_ids, [101, 7, 102, 9, 101, 102]);
        assert_eq!(p.mask_row(1), [0, 1, 1]);
        assert_eq!(p.token_type_ids, [0, 0, 0, 0, 0, 1]);
    }
}
