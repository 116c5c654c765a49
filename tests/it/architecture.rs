//! The layering of `src/` (ARCHITECTURE.md): every top-level module may use only the
//! modules of lower layers, so an import cycle between top-level modules cannot come back.
//! The scan reads `crate::<module>` paths (also inside `use crate::{..}` groups) and `super::`
//! chains that climb out of a top-level module, in code (comments are skipped).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::util::root;

/// The top-level modules, lowest layer first. A module may use any module of a lower layer
/// and none of its own layer or above. Keep in step with ARCHITECTURE.md.
const LAYERS: &[&[&str]] = &[
    &["output", "runtime"],
    &["head"],
    &["load"],
    &["score", "onnx"],
    &["fit", "extract"],
    &["export"],
    &["validate"],
    &["report"],
    &["fit_dir"],
    &["settings"],
    &["pipeline"],
    &["cli"],
];

/// Largest source file in `src/`, in lines.
const MAX_LINES: usize = 500;

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src/` (`src/a/b.rs` and `src/a/b/mod.rs` → `[a, b]`).
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code of a line, without its `//` comment (doc comments included).
fn code(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

/// `(from, to, where)` for every use of another top-level module in `src/`.
fn edges() -> Vec<(String, String, String)> {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let crate_path = Regex::new(r"\bcrate::(\w+)").unwrap();
    let crate_group = Regex::new(r"\bcrate::\{([^}]*)\}").unwrap();
    let super_path = Regex::new(r"\b((?:super::)+)(\w+)").unwrap();
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap().to_path_buf();
        let module = module_path(&rel);
        let Some(top) = module.first().cloned() else {
            continue; // lib.rs / main.rs: the crate root declares the modules.
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let line = code(line);
            let at = format!("src/{}:{}", rel.display(), n + 1);
            let mut targets: Vec<String> = crate_path
                .captures_iter(line)
                .map(|c| c[1].to_string())
                .collect();
            for group in crate_group.captures_iter(line) {
                targets.extend(
                    group[1]
                        .split(',')
                        .filter_map(|item| item.trim().split("::").next())
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                );
            }
            for c in super_path.captures_iter(line) {
                let ups = c[1].matches("super::").count();
                if ups >= module.len() {
                    targets.push(c[2].to_string());
                }
            }
            for target in targets {
                if target != top && layer(&target).is_some() {
                    out.push((top.clone(), target, at.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn every_top_level_module_has_a_layer() {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let declared = Regex::new(r"(?m)^pub mod (\w+);").unwrap();
    let modules: BTreeSet<String> = declared
        .captures_iter(&lib)
        .map(|c| c[1].to_string())
        .collect();
    let missing: Vec<&String> = modules.iter().filter(|m| layer(m).is_none()).collect();
    assert!(
        missing.is_empty(),
        "give these modules a layer in LAYERS and ARCHITECTURE.md: {missing:?}"
    );
    assert!(
        modules.contains("pipeline") && modules.contains("head"),
        "{modules:?}"
    );
}

#[test]
fn modules_use_only_lower_layers() {
    let edges = edges();
    // The scan sees real edges (a broken scan would pass vacuously).
    assert!(
        edges
            .iter()
            .any(|(f, t, _)| f == "pipeline" && t == "fit_dir"),
        "{edges:?}"
    );
    let bad: Vec<String> = edges
        .iter()
        .filter(|(from, to, _)| layer(to) >= layer(from))
        .map(|(from, to, at)| format!("{from} -> {to} at {at}"))
        .collect();
    assert!(
        bad.is_empty(),
        "uses against the layer order (ARCHITECTURE.md):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_scan_resolves_super_and_groups() {
    let parts = |s: &str| module_path(Path::new(s));
    assert_eq!(parts("pipeline/fit/mod.rs"), ["pipeline", "fit"]);
    assert_eq!(parts("head/file.rs"), ["head", "file"]);
    assert_eq!(parts("runtime.rs"), ["runtime"]);
    assert_eq!(
        code("use crate::cli; // crate::pipeline"),
        "use crate::cli; "
    );
}

#[test]
fn no_source_file_is_over_the_line_limit() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let long: Vec<String> = files
        .iter()
        .map(|f| (f, std::fs::read_to_string(f).unwrap().lines().count()))
        .filter(|(_, n)| *n > MAX_LINES)
        .map(|(f, n)| format!("{} ({n} lines)", f.display()))
        .collect();
    assert!(long.is_empty(), "split these files: {long:?}");
}
