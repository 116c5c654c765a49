//! Parsed flags → validated [`crate::settings`]: the grid is read, the thread count and the
//! activation are decided here, before any stage runs.

use std::path::Path;

use crate::fit::Grid;
use crate::head::Activation;
use crate::settings::{
    ExportSettings, FeaturesSettings, FitSettings, InspectSettings, ReportSettings, RiskTarget,
    Selection, TextsInput, ValidateInput, ValidateSettings,
};

use super::args::{
    ActivationArg, ExportArgs, FeaturesArgs, FitArgs, InspectArgs, ReportArgs, SelectionArg,
    ValidateArgs,
};

/// The head's activation named on the command line.
fn activation(arg: Option<ActivationArg>) -> Option<Activation> {
    arg.map(|a| match a {
        ActivationArg::Tanh => Activation::Tanh,
        ActivationArg::Gelu => Activation::Gelu,
    })
}

impl InspectArgs {
    /// The settings of `inspect`.
    pub fn settings(&self) -> InspectSettings {
        InspectSettings {
            checkpoint: self.checkpoint.clone(),
            features: self.features.clone(),
            json: self.json,
            activation: activation(self.activation),
        }
    }
}

impl FeaturesArgs {
    /// The settings of `features`.
    pub fn settings(&self) -> FeaturesSettings {
        FeaturesSettings {
            model: self.model.clone(),
            tokenizer: self.tokenizer.clone(),
            texts: self.texts.clone(),
            checkpoint: self.checkpoint.clone(),
            out: self.out.clone(),
            max_length: self.max_length.map(|n| n as usize),
            batch_size: self.batch_size as usize,
            threads: self.threads.map(|n| n as usize),
            activation: activation(self.activation),
        }
    }
}

impl FitArgs {
    /// The settings of `fit`: reads and validates `--grid`, resolves `--threads` (default:
    /// the machine's parallelism).
    pub fn settings(&self) -> anyhow::Result<FitSettings> {
        let mut grid = match Grid::named(&self.grid) {
            Some(grid) => grid,
            None => Grid::from_json_file(Path::new(&self.grid))?,
        };
        // `--lambda` is checked (finite, > 0) with the other fit parameters.
        if let Some(lambda) = self.lambda {
            grid.set_lambda(lambda);
        }
        let selection = match self.selection {
            SelectionArg::Cv => Selection::CrossValidation {
                folds: self.folds,
                repeats: self.cv_repeats,
            },
            SelectionArg::Holdout => Selection::Holdout,
        };
        let threads = self
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        Ok(FitSettings {
            checkpoint: self.checkpoint.clone(),
            train: self.train.clone(),
            val: self.val.clone(),
            calib: self.calib.clone(),
            test: self.test.clone(),
            md_train: self.md_train.clone(),
            out: self.out.clone(),
            grid,
            lambda: self.lambda,
            selection,
            seed: self.seed,
            threads,
            activation: activation(self.activation),
            rescale: self.rescale,
        })
    }
}

impl ExportArgs {
    /// The settings of `export` (clap requires `--target-risk` and `--delta` together).
    pub fn settings(&self) -> ExportSettings {
        ExportSettings {
            fit: self.fit.clone(),
            out: self.out.clone(),
            with_mahalanobis: self.with_mahalanobis,
            threshold: match (self.target_risk, self.delta) {
                (Some(risk), Some(delta)) => Some(RiskTarget { risk, delta }),
                _ => None,
            },
            graft: self.graft.clone(),
            checkpoint: self.checkpoint.clone(),
        }
    }
}

impl ValidateArgs {
    /// The settings of `validate`.
    pub fn settings(&self) -> ValidateSettings {
        ValidateSettings {
            onnx: self.onnx.clone(),
            input: match (&self.features, &self.texts, &self.model, &self.tokenizer) {
                (_, Some(texts), Some(model), Some(tokenizer)) => {
                    ValidateInput::Texts(TextsInput {
                        texts: texts.clone(),
                        model: model.clone(),
                        tokenizer: tokenizer.clone(),
                        max_length: self.max_length.map(|n| n as usize),
                        batch_size: self.batch_size as usize,
                        threads: self.threads.map(|n| n as usize),
                    })
                }
                // clap requires --features unless --texts (with --model and --tokenizer).
                (features, _, _, _) => {
                    ValidateInput::Features(features.clone().unwrap_or_default())
                }
            },
            fit: self.fit.clone(),
            report: self.report.clone(),
            baseline: self.baseline.clone(),
            margin: self.margin,
        }
    }
}

impl ReportArgs {
    /// The settings of `report`.
    pub fn settings(&self) -> ReportSettings {
        ReportSettings {
            fit: self.fit.clone(),
            html: self.html.clone(),
        }
    }
}
