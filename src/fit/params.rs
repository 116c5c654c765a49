//! Hyperparameters of the fit stage: a linfa-style builder ([`AdueParams`]) that is checked
//! once into [`AdueValidParams`].

use super::{FitError, Grid};

/// Checked hyperparameters of [`fit`](super::fit). Obtain them with [`AdueParams::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct AdueValidParams {
    grid: Grid,
    lambda: f64,
    rescale: bool,
    seed: u64,
    threads: usize,
    batch_size: usize,
    dropout: f64,
    patience: usize,
    balanced: bool,
    quiet: bool,
}

/// Unchecked hyperparameters of [`fit`](super::fit). Setters consume and return `self`;
/// [`AdueParams::check`] validates everything once.
///
/// ```
/// use adue_compile::fit::{AdueParams, Grid};
/// let params = AdueParams::new().grid(Grid::paper()).seed(7).threads(2).check().unwrap();
/// assert_eq!(params.lambda(), 100.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AdueParams(AdueValidParams);

impl Default for AdueParams {
    fn default() -> Self {
        Self::new()
    }
}

impl AdueParams {
    /// Defaults: [`Grid::quick`], λ = 100, no rescaling (`scale = 1`), seed 0, all cores,
    /// batch size 128, dropout 0.1, patience 5 epochs, uniform (not error-balanced) sampling,
    /// progress bar shown on a terminal.
    pub fn new() -> Self {
        AdueParams(AdueValidParams {
            grid: Grid::quick(),
            lambda: 100.0,
            rescale: false,
            seed: 0,
            threads: 0,
            batch_size: 128,
            dropout: 0.1,
            patience: 5,
            balanced: false,
            quiet: false,
        })
    }

    /// The grid to search.
    pub fn grid(mut self, grid: Grid) -> Self {
        self.0.grid = grid;
        self
    }

    /// Sharpness λ of SmoothMax (> 0, finite).
    pub fn lambda(mut self, lambda: f64) -> Self {
        self.0.lambda = lambda;
        self
    }

    /// Use the authors' later variant `U = clamp((1 − SmoothMax)/(1 − 1/C), ..)`, which
    /// stretches `U` (and `U_SR`) to `[0, 1]`; recorded as `scale` in the head metadata.
    pub fn rescale(mut self, rescale: bool) -> Self {
        self.0.rescale = rescale;
        self
    }

    /// Seed of the shuffles, dropout masks and balanced sampling. Every configuration
    /// starts from the same seed (common random numbers), so the result does not depend on
    /// the order in which configurations run.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }

    /// Worker threads across configurations; 0 uses every core. Results are identical for
    /// any value.
    pub fn threads(mut self, threads: usize) -> Self {
        self.0.threads = threads;
        self
    }

    /// Mini-batch size (≥ 1).
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.0.batch_size = batch_size;
        self
    }

    /// Dropout probability in `[0, 1)` on the head's input and, for dense heads, on the
    /// hidden layer before `out_proj`.
    pub fn dropout(mut self, dropout: f64) -> Self {
        self.0.dropout = dropout;
        self
    }

    /// Early stopping: epochs without a validation ROC-AUC improvement before a run stops (≥ 1).
    pub fn patience(mut self, patience: usize) -> Self {
        self.0.patience = patience;
        self
    }

    /// Sample mini-batches with replacement so that errors and correct predictions are
    /// drawn equally often, instead of a shuffle of the training split.
    pub fn balanced(mut self, balanced: bool) -> Self {
        self.0.balanced = balanced;
        self
    }

    /// Hide the progress bar.
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.0.quiet = quiet;
        self
    }

    /// Validates the parameters without consuming them.
    pub fn check_ref(&self) -> Result<&AdueValidParams, FitError> {
        let p = &self.0;
        let invalid = |name, value: String, expected| {
            Err(FitError::InvalidParam {
                name,
                value,
                expected,
            })
        };
        if !(p.lambda.is_finite() && p.lambda > 0.0) {
            return invalid("lambda", p.lambda.to_string(), "a finite number > 0");
        }
        if p.batch_size == 0 {
            return invalid("batch_size", "0".into(), "an integer >= 1");
        }
        if !(0.0..1.0).contains(&p.dropout) {
            return invalid("dropout", p.dropout.to_string(), "a probability in [0, 1)");
        }
        if p.patience == 0 {
            return invalid("patience", "0".into(), "an integer >= 1");
        }
        p.grid.validate()?;
        Ok(p)
    }

    /// Validates the parameters.
    pub fn check(self) -> Result<AdueValidParams, FitError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl linfa::ParamGuard for AdueParams {
    type Checked = AdueValidParams;
    type Error = FitError;

    fn check_ref(&self) -> Result<&AdueValidParams, FitError> {
        AdueParams::check_ref(self)
    }

    fn check(self) -> Result<AdueValidParams, FitError> {
        AdueParams::check(self)
    }
}

impl AdueValidParams {
    /// The grid to search.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }
    /// Sharpness λ of SmoothMax.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
    /// Whether `U` is rescaled by `1/(1 − 1/C)`.
    pub fn rescale(&self) -> bool {
        self.rescale
    }
    /// Seed of every random draw.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Worker threads (0 = every core).
    pub fn threads(&self) -> usize {
        self.threads
    }
    /// Mini-batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
    /// Dropout probability.
    pub fn dropout(&self) -> f64 {
        self.dropout
    }
    /// Early-stopping patience in epochs.
    pub fn patience(&self) -> usize {
        self.patience
    }
    /// Whether mini-batches are error-balanced.
    pub fn balanced(&self) -> bool {
        self.balanced
    }
    /// Whether the progress bar is hidden.
    pub fn quiet(&self) -> bool {
        self.quiet
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let p = AdueParams::new().check().unwrap();
        assert_eq!(
            (
                p.lambda(),
                p.batch_size(),
                p.dropout(),
                p.patience(),
                p.seed()
            ),
            (100.0, 128, 0.1, 5, 0)
        );
        assert_eq!(p.grid(), &Grid::quick());
        assert!(!p.rescale() && !p.balanced());
    }

    #[test]
    fn rejects_out_of_domain_values() {
        let cases = [
            (AdueParams::new().lambda(0.0), "lambda"),
            (AdueParams::new().lambda(-1.0), "lambda"),
            (AdueParams::new().lambda(f64::INFINITY), "lambda"),
            (AdueParams::new().batch_size(0), "batch_size"),
            (AdueParams::new().dropout(1.0), "dropout"),
            (AdueParams::new().dropout(f64::NAN), "dropout"),
            (AdueParams::new().patience(0), "patience"),
            (
                AdueParams::new().grid(Grid {
                    lr: vec![0.0],
                    ..Grid::quick()
                }),
                "lr",
            ),
        ];
        for (params, needle) in cases {
            let e = params.check().unwrap_err().to_string();
            assert!(e.contains(needle), "{e:?} should name {needle}");
        }
    }
}
