//! Running one hostile case: build its files in a fresh directory, run the real binary under
//! a memory cap and a wall-clock limit, and check the outcome (exit code, message, no panic,
//! no file written).

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{fixture, root};

/// Virtual-memory cap of every run (`ulimit -v`, KiB): 4 GiB. Validate cases never reach
/// ONNX Runtime (they fail before it loads), so no case needs more.
pub const MEMORY_LIMIT_KIB: u64 = 4 * 1024 * 1024;

/// A run that takes longer is killed and fails the case (a hang detector, not a speed test).
pub const TIME_LIMIT: Duration = Duration::from_secs(60);

/// The fixture most cases are built from: small (D = 64, C = 2), so a fit that gets as
/// far as training is quick.
pub const SMALL: &str = "tiny-electra-gelu";

/// What a case must produce.
pub enum Expect {
    /// Exit 2; stderr names the culprit file and contains every fragment.
    Rejected(&'static [&'static str]),
    /// Exit 0 (the input is odd but legitimate).
    Accepted,
}

/// One entry of the corpus.
pub struct Case {
    /// Short, unique name (also the README row).
    pub name: &'static str,
    /// What is wrong with the input.
    pub wrong: &'static str,
    /// Writes the hostile files into the case directory; returns the arguments and what
    /// the message must name: the file or directory (as given), or the flag.
    pub setup: fn(&Ctx) -> (Vec<OsString>, String),
    /// The outcome.
    pub expect: Expect,
}

/// Arguments from mixed strings and paths.
pub fn args(items: &[&dyn AsRef<OsStr>]) -> Vec<OsString> {
    items.iter().map(|a| a.as_ref().to_os_string()).collect()
}

/// The case's own directory and shortcuts to what cases are built from.
pub struct Ctx<'a> {
    /// A fresh, empty directory; everything in it is checked to be unchanged by the run.
    pub dir: PathBuf,
    /// The real fit directory and ONNX head cases copy from.
    pub shared: &'a Shared,
}

impl Ctx<'_> {
    /// `dir/name`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A directory `dir/name`, created.
    pub fn mkdir(&self, name: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    /// A copy of the fixture's adapter directory at `dir/name`.
    pub fn adapter(&self, case: &str, name: &str) -> PathBuf {
        let p = self.mkdir(name);
        for f in ["adapter_config.json", "adapter_model.safetensors"] {
            std::fs::copy(fixture(case, &format!("adapter/{f}")), p.join(f)).unwrap();
        }
        p
    }

    /// A one-configuration, one-epoch grid file (fits that reach training stay fast).
    pub fn grid(&self) -> PathBuf {
        let p = self.path("grid.json");
        std::fs::write(
            &p,
            r#"{"alpha": [0.0], "beta": [0.1], "lr": [0.001], "epochs": [1]}"#,
        )
        .unwrap();
        p
    }

    /// `fit` of [`SMALL`]'s checkpoint on `train` (plus `extra` flags) into `dir/out`,
    /// with the quick grid of [`Ctx::grid`] and two threads.
    pub fn fit(&self, train: &Path, extra: &[&dyn AsRef<OsStr>]) -> Vec<OsString> {
        let mut a = args(&[
            &"fit",
            &"--checkpoint",
            &fixture(SMALL, "adapter"),
            &"--train",
            &train,
            &"--out",
            &self.path("out"),
            &"--grid",
            &self.grid(),
            &"--threads",
            &"2",
        ]);
        a.extend(args(extra));
        a
    }

    /// A copy of the shared fit directory (a successful `fit` of [`SMALL`]) at `dir/fit`.
    pub fn fit_dir(&self) -> PathBuf {
        let to = self.mkdir("fit");
        for e in std::fs::read_dir(self.shared.get().join("fit")).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
        to
    }

    /// A copy of the shared fit directory's exported ONNX head at `dir/head.onnx`.
    pub fn onnx(&self) -> PathBuf {
        let p = self.path("head.onnx");
        std::fs::copy(self.shared.get().join("head.onnx"), &p).unwrap();
        p
    }
}

/// A real fit directory and ONNX head of [`SMALL`] (`fit`, `export` by the binary), made on
/// first use and removed when dropped.
#[derive(Default)]
pub struct Shared(OnceCell<tempfile::TempDir>);

impl Shared {
    /// The directory holding `fit/` and `head.onnx`.
    pub fn get(&self) -> &Path {
        self.0
            .get_or_init(|| {
                let tmp = tempfile::tempdir().unwrap();
                let ctx = Ctx {
                    dir: tmp.path().to_path_buf(),
                    shared: self,
                };
                let runs = [
                    ctx.fit(
                        &fixture(SMALL, "train.safetensors"),
                        &[
                            &"--val",
                            &fixture(SMALL, "val.safetensors"),
                            &"--test",
                            &fixture(SMALL, "test.safetensors"),
                        ],
                    ),
                    args(&[
                        &"export",
                        &"--fit",
                        &ctx.path("out"),
                        &"--out",
                        &ctx.path("head.onnx"),
                    ]),
                ];
                for a in runs {
                    let r = run_bounded(&a);
                    assert_eq!(r.code, Some(0), "{a:?}\n{}", r.stderr);
                }
                std::fs::rename(ctx.path("out"), ctx.path("fit")).unwrap();
                tmp
            })
            .path()
    }
}

/// What a bounded run produced.
pub struct Ran {
    /// Exit code; `None` when killed by a signal (abort on allocation failure, timeout).
    pub code: Option<i32>,
    /// Standard error.
    pub stderr: String,
    /// Whether the time limit killed it.
    pub timed_out: bool,
}

/// Runs the binary with `a` under `ulimit -v` [`MEMORY_LIMIT_KIB`], killed after
/// [`TIME_LIMIT`].
pub fn run_bounded(a: &[OsString]) -> Ran {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {MEMORY_LIMIT_KIB} && exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_adue-compile"))
        .args(a)
        // One malloc arena per thread reserves 64 MiB of address space each: keep the cap
        // about the tool's own allocations, not the machine's core count.
        .env("MALLOC_ARENA_MAX", "2")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = pipe.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let (status, timed_out) = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break (s, false);
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            break (child.wait().unwrap(), true);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stderr = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    Ran {
        code: status.code(),
        stderr,
        timed_out,
    }
}

/// Every entry under `dir` (not following symlinks): relative path → file bytes, link
/// target, a marker for a FIFO, or `None` for a directory.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&p).unwrap();
                out.insert(rel, Some(target.into_os_string().into_encoded_bytes()));
            } else if meta.is_dir() {
                out.insert(rel, None);
                stack.push(p);
            } else if meta.is_file() {
                out.insert(rel, Some(std::fs::read(&p).unwrap()));
            } else {
                // A FIFO or socket: reading it could block.
                out.insert(rel, Some(b"(special file)".to_vec()));
            }
        }
    }
    out
}

/// Runs one case in a fresh directory; `Err` says everything that was wrong.
pub fn check(case: &Case, shared: &Shared) -> Result<Ran, String> {
    let tmp = tempfile::tempdir().unwrap();
    let ctx = Ctx {
        dir: tmp.path().to_path_buf(),
        shared,
    };
    let (a, culprit) = (case.setup)(&ctx);
    let before = snapshot(&ctx.dir);
    let ran = run_bounded(&a);
    let after = snapshot(&ctx.dir);
    let mut problems = Vec::new();
    if ran.timed_out {
        problems.push(format!("killed after {TIME_LIMIT:?} (hang)"));
    }
    if ran.stderr.contains("panicked") {
        problems.push("panicked".to_string());
    }
    match case.expect {
        Expect::Rejected(fragments) => {
            if ran.code != Some(2) {
                problems.push(format!("exit {:?}, expected 2", ran.code));
            }
            if !ran.stderr.contains(&culprit) {
                problems.push(format!("stderr does not name {culprit}"));
            }
            for f in fragments {
                if !ran.stderr.contains(f) {
                    problems.push(format!("stderr lacks `{f}`"));
                }
            }
        }
        Expect::Accepted => {
            if ran.code != Some(0) {
                problems.push(format!("exit {:?}, expected 0", ran.code));
            }
        }
    }
    if before != after {
        let changed: Vec<_> = after
            .keys()
            .chain(before.keys())
            .filter(|k| before.get(*k) != after.get(*k))
            .collect();
        problems.push(format!("files written or changed: {changed:?}"));
    }
    if problems.is_empty() {
        Ok(ran)
    } else {
        Err(format!(
            "{}: {}\n  args: {a:?}\n  stderr: {}",
            case.name,
            problems.join("; "),
            ran.stderr.trim_end()
        ))
    }
}

/// The stderr line for the README: temporary paths shortened to their file name under
/// `$TMP/`, the checkout to `.`.
pub fn excerpt(stderr: &str) -> String {
    let root = root().display().to_string();
    let tmp = std::env::temp_dir().display().to_string();
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("error: "))
        .unwrap_or(stderr.trim());
    let mut s = line.replace(&root, ".");
    // `/tmp/.tmpXXXXXX/` → `$TMP/`.
    while let Some(i) = s.find(&format!("{tmp}/.tmp")) {
        let end = s[i + tmp.len() + 1..]
            .find('/')
            .map_or(s.len(), |j| i + tmp.len() + 1 + j + 1);
        s.replace_range(i..end, "$TMP/");
    }
    s.replace('|', "\\|")
}
