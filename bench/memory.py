"""Peak memory of `adue-compile fit` and of the Mahalanobis fit against the number of rows N.

    python bench/memory.py run   [--bin PATH] [--work DIR] [--results FILE] [--plan NAME]
    python bench/memory.py table [--results FILE]
    python bench/memory.py compare BEFORE.jsonl AFTER.jsonl
    python bench/memory.py trace -- COMMAND...

`run` generates synthetic feature sets with bench/make_synthetic.py (the fit benchmark's
generator, C = 5 classes; its head file is renamed to a bare checkpoint: `classifier.dense.*`
+ `classifier.out_proj.*` for the dense head, `score.weight` for the linear one), runs the
release binary once per case under `nice -n 10`, one process at a time, and appends one JSON
line per run to the results file. Each generated set is deleted once its runs are done.

Peak RSS is `/usr/bin/time -f %M` of the command: its `ru_maxrss`, the "Maximum resident set
size" of `time -v`. The command is started by `time` rather than forked from this Python
process, because Linux carries the forking process's high-water mark over into the child's
`ru_maxrss` across fork + exec. The script also samples `/proc/PID/status` every 10 ms for the
peak anonymous (`RssAnon`, heap) and file-backed (`RssFile`, mapped input pages) parts
separately; sampling can miss a short spike, `ru_maxrss` cannot.

`trace` runs one command and prints its resident memory over time (anonymous and file-backed,
every 10 ms, a line when either moves by 8 MiB) with its stderr lines interleaved, which shows
which stage holds the peak.

`compare` prints each case of one results file beside the same case in another (e.g. an older
binary's run). `table` prints the Markdown table of bench/MEMORY.md and, per (command, head,
D, threads, split layout), a least-squares line `peak = a + b·N` with its residuals, `b` in bytes per
row and as a multiple of the feature bytes per row (4·D).

Plans: `fit` (dense D = 768 at N = 10k…200k, threads 2 and 1, with --val/--test of 5 000 rows
and with the 20% hold-out; linear D = 4096 at N = 10k, 25k, 50k), `checks` (epochs 1 vs 5,
default grid vs the small memory grid, at one N), `mahalanobis` (benches/mahalanobis.rs),
`inspect` (`inspect --features` on one file of N = 100k, D = 4096, f32 (1.6 GB) and f16;
`inspect --checkpoint` on a 4 GiB checkpoint), `all` (everything).
`--rows`, `--linear-rows`, `--heads`, `--variants` and `--repeat` narrow or repeat the `fit`
plan, e.g. to rerun part of it with an older binary; `--rows` and `--linear-rows` also set the
`mahalanobis` plan's N.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLASSES = 5
EVAL_ROWS = 5000
DENSE_ROWS = [10_000, 25_000, 50_000, 100_000, 200_000]
LINEAR_ROWS = [10_000, 25_000, 50_000]
# Memory does not depend on the number of epochs or configurations beyond the ones running
# at once (checked by the `checks` plan); two configurations keep both threads busy.
MEMORY_GRID = {"alpha": [0.0, 1.0], "beta": [0.01], "lr": [1e-3], "epochs": [1]}
CHECKPOINT_KEYS = {
    "dense.weight": "classifier.dense.weight",
    "dense.bias": "classifier.dense.bias",
    "out_proj.weight": "classifier.out_proj.weight",
    "out_proj.bias": "classifier.out_proj.bias",
    "weight": "score.weight",
}


def status_kb(pid, keys):
    """Values in kB of `keys` in /proc/PID/status; None once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(":")
        if k in keys:
            out[k] = int(v.split()[0])
    return out


def measure(cmd, log):
    """Runs `cmd` at nice 10 under `/usr/bin/time`; returns its peak RSS, the sampled peaks
    of its anonymous and file-backed parts, its wall time and its stdout."""
    t0 = time.monotonic()
    with tempfile.NamedTemporaryFile("r") as peak_file, open(log, "w") as err:
        proc = subprocess.Popen(
            ["/usr/bin/time", "-f", "%M", "-o", peak_file.name, *map(str, cmd)],
            stdout=subprocess.PIPE, stderr=err, preexec_fn=lambda: os.nice(10),
        )
        peaks = {"RssAnon": 0, "RssFile": 0}
        done = threading.Event()

        def sample():
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
            pid = None
            while not done.is_set():
                try:
                    pid = pid or int(children.read_text().split()[0])
                except (OSError, ValueError, IndexError):
                    pass
                s = status_kb(pid, peaks.keys()) if pid else None
                for k, v in (s or {}).items():
                    peaks[k] = max(peaks[k], v)
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        stdout = proc.stdout.read()
        proc.wait()
        done.set()
        sampler.join()
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}); see {log}")
        # The last line (a failing command gets a status line before it).
        peak_kb = int(peak_file.read().split()[-1])
    return {
        "peak_rss_bytes": peak_kb * 1024,
        "peak_anon_bytes_sampled": peaks["RssAnon"] * 1024,
        "peak_file_bytes_sampled": peaks["RssFile"] * 1024,
        "wall_s": round(time.monotonic() - t0, 2),
        "stdout": stdout.decode(errors="replace"),
    }


def make_set(work, kind, dim, rows):
    """A synthetic set (train N, val/test 5 000) and its bare checkpoint; returns the dir."""
    d = work / f"{kind}-{dim}-{rows}"
    if not (d / "checkpoint.safetensors").exists():
        subprocess.run(
            [PYTHON, ROOT / "bench/make_synthetic.py", d, "--kind", kind, "--dim", str(dim),
             "--train", str(rows), "--eval", str(EVAL_ROWS), "--classes", str(CLASSES)],
            check=True, stdout=subprocess.DEVNULL, preexec_fn=lambda: os.nice(10),
        )
        head = load_file(str(d / "original_head.safetensors"))
        save_file({CHECKPOINT_KEYS[k]: v for k, v in head.items()}, str(d / "checkpoint.safetensors"))
    return d


def fit_case(binary, work, results, kind, dim, rows, threads, layout, grid, epochs=None):
    """One `fit` run; `layout` is `val` (--val and --test files) or `holdout` (--test only, the
    20% hold-out); `grid` is `memory` (MEMORY_GRID with `epochs`) or a grid name."""
    d = make_set(work, kind, dim, rows)
    if grid == "memory":
        g = dict(MEMORY_GRID, epochs=[epochs or MEMORY_GRID["epochs"][0]])
        grid_arg = str(work / f"grid-{g['epochs'][0]}.json")
        Path(grid_arg).write_text(json.dumps(g))
    else:
        grid_arg = grid
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [binary, "--quiet", "fit", "--checkpoint", d / "checkpoint.safetensors",
           "--train", d / "train.safetensors", "--test", d / "test.safetensors",
           "--out", out, "--grid", grid_arg, "--threads", str(threads)]
    if layout == "val":
        cmd += ["--val", d / "val.safetensors"]
    if kind == "dense":
        cmd += ["--activation", "tanh"]
    m = measure(cmd, work / "stderr.log")
    m.pop("stdout")
    # Rows of every feature file the run reads; the train file is the one that varies.
    files = ["train", "test"] + (["val"] if layout == "val" else [])
    row = {
        "command": "fit", "head": kind, "d": dim, "n": rows, "threads": threads,
        "layout": layout, "grid": grid if grid != "memory" else f"memory-e{g['epochs'][0]}",
        "feature_bytes": sum((d / f"{f}.safetensors").stat().st_size for f in files),
        "train_feature_bytes": rows * dim * 4, **m,
    }
    emit(results, row)


def mahalanobis_case(binary, work, results, dim, rows):
    """One run of benches/mahalanobis.rs (it generates its features in process)."""
    m = measure([binary, str(rows), str(dim)], work / "stderr.log")
    line = json.loads(m.pop("stdout").strip().splitlines()[-1])
    row = {"command": "mahalanobis", "head": "-", "d": dim, "n": rows, "threads": 2,
           "layout": "in-memory", "grid": "-", "feature_bytes": line["features_bytes"],
           "train_feature_bytes": line["features_bytes"], **m,
           "fit_seconds": line["seconds"], "self_reported_peak": line["peak_rss_bytes"]}
    emit(results, row)


def emit(results, row):
    print(json.dumps(row), flush=True)
    with open(results, "a") as f:
        f.write(json.dumps(row) + "\n")


def cargo_executable(kind, name):
    """Builds and returns the release executable of bin or bench `name`."""
    args = ["cargo", "build", "--release", "--message-format=json", f"--{kind}", name]
    out = subprocess.run(args, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = json.loads(line)
        if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == name:
            return m["executable"]
    raise SystemExit(f"no executable for {kind} {name}")


def write_big_features(path, rows, dim, dtype):
    """A safetensors feature file (features + labels, no logits) written block by block, so
    that a file of several GB needs no more than one block in this process."""
    dt = {"F32": np.float32, "F16": np.float16}[dtype]
    fbytes = rows * dim * np.dtype(dt).itemsize
    header = json.dumps({
        "features": {"dtype": dtype, "shape": [rows, dim], "data_offsets": [0, fbytes]},
        "labels": {"dtype": "I64", "shape": [rows], "data_offsets": [fbytes, fbytes + 8 * rows]},
    }).encode()
    header += b" " * (-len(header) % 8)
    rng = np.random.default_rng(0)
    with open(path, "wb") as f:
        f.write(len(header).to_bytes(8, "little") + header)
        block = max(1, (64 << 20) // (4 * dim))
        for r0 in range(0, rows, block):
            f.write(rng.standard_normal((min(block, rows - r0), dim), dtype=np.float32).astype(dt).tobytes())
        f.write((np.arange(rows) % CLASSES).astype("<i8").tobytes())


def checkpoint_case(binary, work, results, gib):
    """`inspect --checkpoint` on a bare checkpoint of `gib` GiB (a filler tensor beside a
    linear `score` head, D = 4096): only the header and the head's pages are read into
    memory; the digest streams the file."""
    d = work / "inspect-checkpoint"
    d.mkdir(exist_ok=True)
    ckpt = d / "model.safetensors"
    dim, fill = 4096, gib << 30
    head = np.random.default_rng(1).standard_normal((CLASSES, dim), dtype=np.float32)
    header = json.dumps({
        "model.layers.filler": {"dtype": "F32", "shape": [fill // 4], "data_offsets": [0, fill]},
        "score.weight": {"dtype": "F32", "shape": [CLASSES, dim],
                         "data_offsets": [fill, fill + head.nbytes]},
    }).encode()
    header += b" " * (-len(header) % 8)
    block = np.random.default_rng(0).standard_normal(1 << 24, dtype=np.float32).tobytes()
    with open(ckpt, "wb") as f:
        f.write(len(header).to_bytes(8, "little") + header)
        for _ in range(fill // len(block)):
            f.write(block)
        f.write(head.tobytes())
    m = measure([binary, "inspect", "--checkpoint", ckpt, "--json"], work / "stderr.log")
    assert json.loads(m.pop("stdout"))["hidden_size"] == dim
    emit(results, {"command": "inspect", "head": "linear", "d": dim, "n": 0, "threads": 1,
                   "layout": f"{gib} GiB checkpoint", "grid": "-", "feature_bytes": ckpt.stat().st_size,
                   "train_feature_bytes": 0, **m})
    shutil.rmtree(d)


def inspect_case(binary, work, results, dim, rows, dtype):
    """`inspect --features` on one large file: the decoded f32 array is the only copy."""
    d = work / f"inspect-{dim}-{rows}-{dtype}"
    d.mkdir(exist_ok=True)
    features = d / "features.safetensors"
    write_big_features(features, rows, dim, dtype)
    ckpt = d / "checkpoint.safetensors"
    save_file({"score.weight": np.random.default_rng(1).standard_normal((CLASSES, dim), dtype=np.float32)},
              str(ckpt))
    m = measure([binary, "inspect", "--checkpoint", ckpt, "--features", features, "--json"],
                work / "stderr.log")
    assert json.loads(m.pop("stdout"))["rows"] == rows
    emit(results, {"command": "inspect", "head": "linear", "d": dim, "n": rows, "threads": 1,
                   "layout": f"one {dtype} file", "grid": "-", "feature_bytes": features.stat().st_size,
                   "train_feature_bytes": rows * dim * 4, **m})
    shutil.rmtree(d)


def run(a):
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    binary = a.bin or cargo_executable("bin", "adue-compile")
    plans = {a.plan} if a.plan != "all" else {"fit", "checks", "mahalanobis", "inspect"}
    dense_rows = a.rows or DENSE_ROWS
    linear_rows = a.linear_rows or LINEAR_ROWS
    variants = [(int(t), l) for t, _, l in (v.partition(":") for v in a.variants.split(","))]
    if "checks" in plans:
        for epochs in (1, 5):
            fit_case(binary, work, a.results, "dense", 768, 25_000, 2, "val", "memory", epochs)
        fit_case(binary, work, a.results, "dense", 768, 25_000, 2, "val", "quick")
        shutil.rmtree(work / "dense-768-25000")
    if "fit" in plans:
        for rows in dense_rows if "dense" in a.heads else []:
            for threads, layout in variants * a.repeat:
                fit_case(binary, work, a.results, "dense", 768, rows, threads, layout, "memory")
            shutil.rmtree(work / f"dense-768-{rows}")
        for rows in linear_rows if "linear" in a.heads else []:
            for threads, layout in variants * a.repeat:
                if threads == 2:
                    fit_case(binary, work, a.results, "linear", 4096, rows, threads, layout, "memory")
            shutil.rmtree(work / f"linear-4096-{rows}")
    if "inspect" in plans:
        for dtype in ("F32", "F16"):
            inspect_case(binary, work, a.results, 4096, 100_000, dtype)
        checkpoint_case(binary, work, a.results, 4)
    if "mahalanobis" in plans:
        bench = a.mahalanobis_bin or cargo_executable("bench", "mahalanobis")
        for rows in dense_rows:
            mahalanobis_case(bench, work, a.results, 768, rows)
        for rows in linear_rows:
            mahalanobis_case(bench, work, a.results, 4096, rows)
    shutil.rmtree(work / "out", ignore_errors=True)


def table(a):
    rows = [json.loads(l) for l in open(a.results) if l.strip()]
    rows.sort(key=lambda r: (r["command"], r["head"], r["d"], r["n"], r["layout"], -r["threads"], r["grid"]))
    mb = 1 << 20
    print("| command | head | D | N | threads | splits | grid | peak RSS MiB | anon / file MiB (sampled) "
          "| feature MiB | peak / feature bytes |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['command']} | {r['head']} | {r['d']} | {r['n']} | {r['threads']} | {r['layout']} "
              f"| {r['grid']} | {r['peak_rss_bytes'] / mb:.0f} "
              f"| {r['peak_anon_bytes_sampled'] / mb:.0f} / {r['peak_file_bytes_sampled'] / mb:.0f} "
              f"| {r['feature_bytes'] / mb:.0f} | {r['peak_rss_bytes'] / r['feature_bytes']:.2f} |")
    print()
    groups = {}
    for r in rows:
        if r["grid"] in ("quick", "paper") or r["grid"].startswith("memory-e5"):
            continue
        key = (r["command"], r["head"], r["d"], r["threads"], r["layout"])
        groups.setdefault(key, []).append((r["n"], r["peak_rss_bytes"]))
    print("| command | head | D | threads | splits | a (MiB) | b (bytes/row) | b / (4·D) "
          "| residuals, MiB (by N) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (cmd, head, d, threads, layout), pts in groups.items():
        if len(pts) < 2:
            continue
        n = np.array([k for k, _ in sorted(pts)], dtype=float)
        y = np.array([v for _, v in sorted(pts)], dtype=float)
        b, a0 = np.polyfit(n, y, 1)
        res = y - (a0 + b * n)
        # Repeated runs at one N enter the fit separately; show each N's largest residual.
        worst = {}
        for k, r in zip(n, res):
            worst[k] = r if abs(r) > abs(worst.get(k, 0.0)) else worst[k]
        print(f"| {cmd} | {head} | {d} | {threads} | {layout} | {a0 / mb:.0f} | {b:.0f} "
              f"| {b / (4 * d):.2f} | {', '.join(f'{r / mb:+.1f}' for r in worst.values())} |")


def compare(before_file, after_file):
    """Before/after table: every case of `before_file` beside the same case in `after_file`."""
    load = lambda f: [json.loads(l) for l in open(f) if l.strip()]  # noqa: E731
    key = lambda r: (r["command"], r["head"], r["d"], r["n"], r["threads"], r["layout"], r["grid"])  # noqa: E731
    after = {}
    for r in load(after_file):
        after.setdefault(key(r), r)
    mb = 1 << 20
    print("| command | head | D | N | splits | input MiB | before: peak MiB (× input) "
          "| after: peak MiB (× input) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in sorted(load(before_file), key=key):
        x, f = after[key(r)], r["feature_bytes"]
        print(f"| {r['command']} | {r['head']} | {r['d']} | {r['n']} | {r['layout']} | {f / mb:.0f} "
              f"| {r['peak_rss_bytes'] / mb:.0f} ({r['peak_rss_bytes'] / f:.2f}) "
              f"| {x['peak_rss_bytes'] / mb:.0f} ({x['peak_rss_bytes'] / f:.2f}) |")


def trace(cmd):
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=lambda: os.nice(10))
    events = []
    reader = threading.Thread(target=lambda: events.extend(
        (time.monotonic() - t0, "stderr: " + line.decode(errors="replace").rstrip())
        for line in proc.stderr))
    reader.start()
    last = None
    while proc.poll() is None:
        s = status_kb(proc.pid, ("RssAnon", "RssFile"))
        if s and len(s) == 2:
            now = (s["RssAnon"] >> 10, s["RssFile"] >> 10)
            if last is None or max(abs(a - b) for a, b in zip(now, last)) >= 8:
                events.append((time.monotonic() - t0, f"anon {now[0]} MiB, file {now[1]} MiB"))
                last = now
        time.sleep(0.01)
    reader.join()
    for t, e in sorted(events):
        print(f"{t:7.2f} s  {e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--bin", help="adue-compile binary (default: cargo build --release)")
    r.add_argument("--mahalanobis-bin", help="benches/mahalanobis.rs executable (default: build it)")
    r.add_argument("--work", default="/tmp/adue-memory")
    r.add_argument("--results", default="/tmp/adue-memory/results.jsonl")
    r.add_argument("--plan", choices=["fit", "checks", "mahalanobis", "inspect", "all"], default="all")
    rows = lambda v: [int(x) for x in v.split(",")]  # noqa: E731
    r.add_argument("--rows", type=rows, help="comma-separated N of the D = 768 sets (default: all)")
    r.add_argument("--linear-rows", type=rows, help="comma-separated N of the D = 4096 sets")
    r.add_argument("--heads", default="dense,linear", help="heads of the fit plan")
    r.add_argument("--repeat", type=int, default=1, help="runs of each fit case")
    r.add_argument("--variants", default="2:val,1:val,2:holdout",
                   help="THREADS:LAYOUT list for the fit plan (layout val or holdout)")
    t = sub.add_parser("table")
    t.add_argument("--results", default="/tmp/adue-memory/results.jsonl")
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    tr = sub.add_parser("trace")
    tr.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    if a.cmd == "run":
        run(a)
    elif a.cmd == "table":
        table(a)
    elif a.cmd == "compare":
        compare(a.before, a.after)
    else:
        trace(a.command[1:] if a.command[:1] == ["--"] else a.command)


if __name__ == "__main__":
    main()
