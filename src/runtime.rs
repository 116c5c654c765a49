//! Loading ONNX Runtime.
//!
//! ONNX Runtime is a C++ shared library that we load at run time (`ort`'s
//! `load-dynamic`), so the tool builds anywhere and only `validate` needs the
//! library. `scripts/setup-ort.sh` installs it from the PyPI wheel. We call
//! `ort::init_from` rather than `ort::init`, which panics when the library is
//! missing: a missing library must be an error that says how to install it.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The ONNX Runtime version the project installs and tests against.
pub const ORT_VERSION: &str = "1.32.0";

/// ONNX Runtime could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// No library file was found at any place we look.
    #[error(
        "ONNX Runtime library not found (looked at: {looked}). Install it with \
         `eval \"$(bash scripts/setup-ort.sh)\"` from the adue-compile checkout, or set \
         ORT_DYLIB_PATH to the absolute path of libonnxruntime.so.{ORT_VERSION}"
    )]
    NotFound {
        /// The places we looked, comma-separated.
        looked: String,
    },
    /// The file exists but could not be loaded or initialised.
    #[error("cannot load ONNX Runtime from {path}: {reason}")]
    Load {
        /// The library we tried.
        path: PathBuf,
        /// What ONNX Runtime or the dynamic loader said.
        reason: String,
    },
}

/// Where we look for the library: `ORT_DYLIB_PATH` alone when it is set (an explicit
/// choice that points nowhere is an error, not a reason to load another copy);
/// otherwise `.ort/<version>/` under the current directory, then under the source
/// checkout this binary was built from.
pub fn candidate_paths() -> Vec<PathBuf> {
    let file = format!("libonnxruntime.so.{ORT_VERSION}");
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return vec![PathBuf::from(p)];
    }
    let mut out = Vec::new();
    let rel = Path::new(".ort").join(ORT_VERSION).join(&file);
    if let Ok(cwd) = std::env::current_dir() {
        out.push(cwd.join(&rel));
    }
    out.push(Path::new(env!("CARGO_MANIFEST_DIR")).join(&rel));
    out
}

static ENV: OnceLock<ort::environment::Environment> = OnceLock::new();
static INIT: Mutex<()> = Mutex::new(());

/// Loads ONNX Runtime once per process and keeps its environment alive.
/// Returns the path of the library that was loaded.
pub fn init() -> Result<PathBuf, RuntimeError> {
    static LOADED: OnceLock<PathBuf> = OnceLock::new();
    let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = LOADED.get() {
        return Ok(p.clone());
    }
    let candidates = candidate_paths();
    let path = candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| RuntimeError::NotFound {
            looked: candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let load_err = |reason: String| RuntimeError::Load {
        path: path.clone(),
        reason,
    };
    let env = ort::init_from(&path)
        .map_err(|e| load_err(e.to_string()))?
        .with_name("adue-compile")
        .build()
        .map_err(|e| load_err(e.to_string()))?;
    let _ = ENV.set(env);
    let _ = LOADED.set(path.clone());
    Ok(path)
}

/// The ONNX Runtime environment, loading the library first if needed (sessions are
/// built from it: `ort::session::Session::builder(runtime::environment()?)`).
pub fn environment() -> Result<&'static ort::environment::Environment, RuntimeError> {
    let path = init()?;
    // `init` succeeded, so it stored the environment (or an earlier call did).
    ENV.get().ok_or(RuntimeError::Load {
        path,
        reason: "the environment was not kept after initialisation".to_string(),
    })
}
