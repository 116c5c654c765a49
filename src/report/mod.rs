//! The report: `report.json` (typed, schema-validated), a text summary and an HTML page.

mod error;
pub mod model;
pub mod provenance;
pub mod real;

pub use error::ReportError;
pub use model::{EvaluationSections, FitSection, GridEntry, HeadSummary, Report, ReportParts};
pub use provenance::InputFile;
pub use real::Real;
