//! Hyperparameters of the fit stage: a linfa-style builder ([`AdueParams`]) that is checked
//! once into [`AdueValidParams`].

use super::folds::MAX_FOLDS;
use super::{Config, FitError, Grid};

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
    folds: usize,
    cv_repeats: usize,
    smoothing: usize,
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
    /// Defaults: [`Grid::quick`], λ = 100 (for grid blocks without a λ axis), no rescaling
    /// (`scale = 1`), seed 0, all cores, batch size 128, dropout 0.1, patience 5 checkpoints,
    /// uniform (not error-balanced) sampling, 5 folds × 1 repeat without smoothing for
    /// cross-validation, progress bar shown on a terminal.
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
            folds: 5,
            cv_repeats: 1,
            smoothing: 1,
            quiet: false,
        })
    }

    /// The grid to search.
    pub fn grid(mut self, grid: Grid) -> Self {
        self.0.grid = grid;
        self
    }

    /// Sharpness λ of SmoothMax (> 0, finite) for the grid blocks that list no λ.
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

    /// Folds of cross-validated selection ([`fit_cv`](super::fit_cv)), in `2..=50`.
    pub fn folds(mut self, folds: usize) -> Self {
        self.0.folds = folds;
        self
    }

    /// Repeats of the cross-validation, each with a new seeded partition into folds (in
    /// `1..=50`); the selection score averages over all folds of all repeats.
    pub fn cv_repeats(mut self, repeats: usize) -> Self {
        self.0.cv_repeats = repeats;
        self
    }

    /// Width (odd, ≥ 1) of the centred moving average over checkpoints applied to each
    /// configuration's mean held-out-fold curve before the checkpoint is chosen (1: none).
    pub fn smoothing(mut self, width: usize) -> Self {
        self.0.smoothing = width;
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
        if !(2..=MAX_FOLDS).contains(&p.folds) {
            return invalid("folds", p.folds.to_string(), "an integer in 2..=50");
        }
        if !(1..=MAX_FOLDS).contains(&p.cv_repeats) {
            return invalid(
                "cv_repeats",
                p.cv_repeats.to_string(),
                "an integer in 1..=50",
            );
        }
        if p.smoothing.is_multiple_of(2) || p.smoothing > 99 {
            return invalid(
                "smoothing",
                p.smoothing.to_string(),
                "an odd integer in 1..=99",
            );
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
    /// Every configuration of the grid, with λ where a block lists none.
    pub fn configurations(&self) -> Vec<Config> {
        let mut grid = self.grid.clone();
        grid.fill_lambda(self.lambda);
        grid.configurations()
    }
    /// Sharpness λ of SmoothMax for grid blocks without a λ axis.
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
    /// Folds of cross-validation.
    pub fn folds(&self) -> usize {
        self.folds
    }
    /// Repeats of cross-validation.
    pub fn cv_repeats(&self) -> usize {
        self.cv_repeats
    }
    /// Width of the moving average over checkpoints.
    pub fn smoothing(&self) -> usize {
        self.smoothing
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
            (AdueParams::new().folds(1), "folds"),
            (AdueParams::new().folds(51), "folds"),
            (AdueParams::new().cv_repeats(0), "cv_repeats"),
            (AdueParams::new().smoothing(2), "smoothing"),
            (
                AdueParams::new().grid(
                    super::super::GridBlock {
                        lr: vec![0.0],
                        ..Grid::quick().blocks[0].clone()
                    }
                    .into(),
                ),
                "lr",
            ),
        ];
        for (params, needle) in cases {
            let e = params.check().unwrap_err().to_string();
            assert!(e.contains(needle), "{e:?} should name {needle}");
        }
    }
}
