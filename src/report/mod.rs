//! The report: `report.json` (typed, schema-validated), a text summary and an HTML page.
//!
//! - [`model`] and [`fit_section`]: the serde structs of `report.json` (CONTRACT §7);
//!   `evaluation` maps the scorer's and the fit engine's results into them (score and fit
//!   never build report types);
//! - [`schema`]: validation against `schemas/report.schema.json`;
//! - reading / writing: [`Report::to_json`], [`Report::write`], [`Report::read`];
//! - [`render_summary`]: the text table; [`render_html`] with [`Curves`]: the HTML page.

mod conventions;
mod curves;
mod error;
mod evaluation;
pub mod fit_section;
pub mod format;
mod html;
mod io;
pub mod model;
pub mod provenance;
pub mod real;
pub mod schema;
mod summary;
mod svg;

pub use curves::{Curves, ReliabilityBin, CURVE_METHODS, MAX_CURVE_POINTS};
pub use error::ReportError;
pub use evaluation::SelectionContext;
pub use fit_section::{CalibrationInfo, FitSection, GridEntry, SelectionInfo};
pub use html::render_html;
pub use model::{EvaluationSections, HeadSummary, Report, ReportParts, SCHEMA_VERSION};
pub use provenance::InputFile;
pub use real::Real;
pub use summary::render_summary;
