//! One integration-test binary (as ripgrep does): shared helpers in `util`,
//! one module per concern.

mod architecture;
mod cli_errors;
mod export_bench;
mod export_crosscheck;
mod export_fixtures;
mod export_parity;
mod export_support;
mod export_threshold;
mod features_crosscheck;
mod features_e2e;
mod fit_cv;
mod fit_engine;
mod fit_fixtures;
mod fit_optim;
mod fit_support;
mod fuzz_regressions;
mod graft_e2e;
mod head_file;
mod hostile;
mod load_checkpoint;
mod load_features;
mod load_fixtures;
mod load_support;
mod onnx_roundtrip;
mod pipeline;
mod report_html;
mod report_json;
mod report_support;
mod score_evaluate;
mod score_golden;
mod score_lm_polygraph;
mod stats_sim;
mod util;
mod validate_checks;
mod validate_gate;
