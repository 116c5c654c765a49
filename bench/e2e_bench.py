#!/usr/bin/env python3
"""End-to-end benchmark: feature extraction throughput and full-model latency, side by side in one run.

1. Feature extraction on the same texts (each real fixture's test split, fixtures/<case>/texts/):
   `scripts/cache_features.py` (torch CPU, base + adapter, the user's path) at 1 and 2 threads,
   fixtures/e2e/reference_features.py (onnxruntime + tokenizers in Python, on model.onnx) and, given
   --adue-compile BIN, `adue-compile features` on model.onnx, with the same threads.
   Reported per tool: rows/s over the whole command (wall, incl. start-up and model loading) and,
   for the Python tools, rows/s of the feature loop alone (tokenisation + model, their own timers).
2. ONNX Runtime latency of each original model.onnx (scripts/setup-e2e.sh) at batch 1 and 32 on real
   tokenised test texts (the fixture's max_length), median over --rounds runs after warm-up, 1 and 2
   intra-op threads; given --grafted DIR (DIR/<case>/full.onnx, `adue-compile export --graft`), the
   grafted model is timed in the same loop, interleaved, and its overhead reported.

  eval "$(bash scripts/setup-e2e.sh)"
  HF_HUB_OFFLINE=1 /root/.cache/adue/venv-gen/bin/python fixtures/e2e/hf_dirs.py          # base dirs for cache_features.py
  HF_HUB_OFFLINE=1 /root/.cache/adue/venv-gen/bin/python bench/e2e_bench.py \
      [--adue-compile target/release/adue-compile] [--grafted DIR] [--json bench/e2e_results.jsonl]
Requirements: bench/onnx_requirements.txt + transformers/peft/tokenizers (fixtures/gen/requirements.txt).
The machine's load average is recorded with every result: the machine is shared.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import onnxruntime as ort

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "fixtures" / "e2e"))
sys.path.insert(0, str(ROOT / "fixtures" / "gen"))
import reference_features  # noqa: E402  (tokenisation and padding exactly as the reference does)

CASES = {"bbc-bert-linear": 12, "bbc-roberta": 16, "bbc-minilm-score": 16}  # max_length


def texts_of(case, split="test"):
    """Texts of a fixture split (JSONL)."""
    path = ROOT / "fixtures" / case / "texts" / f"{split}.jsonl"
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line]


def timed(cmd, env):
    """(wall seconds, stderr, stdout) of a command; exits if it fails."""
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr}")
    return seconds, done.stderr, done.stdout


def bench_features(case, threads, hf_dir, adue, models, tmp):
    """Rows/s of cache_features.py (and adue-compile features) on the case's test texts."""
    texts = ROOT / "fixtures" / case / "texts" / "test.jsonl"
    rows = len(texts_of(case))
    adapter = ROOT / "fixtures" / case / "adapter"
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    cmd = [sys.executable, str(ROOT / "scripts" / "cache_features.py"), "--base", str(hf_dir / case),
           "--adapter", str(adapter), "--texts", str(texts), "--out", str(tmp / "torch.safetensors"),
           "--max-length", str(CASES[case])] + (["--trust-remote-code"] if case == "bbc-minilm-score" else [])
    wall, err, _ = timed(cmd, env)
    line = next(l for l in err.splitlines() if l.startswith("features:"))
    loop = float(line.split(" rows in ")[1].split(" s")[0])
    out = [dict(tool="cache_features.py (torch)", case=case, threads=threads, rows=rows,
                wall_rows_per_s=rows / wall, loop_rows_per_s=rows / loop)]
    tokenizer = ROOT / "fixtures" / case / "e2e" / "tokenizer.json"
    cmd = [sys.executable, str(ROOT / "fixtures" / "e2e" / "reference_features.py"),
           "--model", str(models / case / "model.onnx"), "--tokenizer", str(tokenizer), "--texts", str(texts),
           "--checkpoint", str(adapter), "--out", str(tmp / "ref.safetensors"), "--max-length", str(CASES[case]),
           "--threads", str(threads), "--json"]
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    out.append(dict(tool="reference_features.py (ORT)", case=case, threads=threads, rows=rows,
                    wall_rows_per_s=rows / wall, loop_rows_per_s=rows / json.loads(done.stdout)["seconds"]))
    if adue:
        cmd = [adue, "features", "--model", str(models / case / "model.onnx"),
               "--tokenizer", str(tokenizer), "--texts", str(texts),
               "--checkpoint", str(adapter), "--out", str(tmp / "rust.safetensors"),
               "--max-length", str(CASES[case]), "--threads", str(threads)]
        wall, _, summary = timed(cmd, env)
        # stdout: "... <r> rows/s in tokenization + model loop"
        loop = float(summary.split(" rows/s in tokenization")[0].rsplit(" ", 1)[1])
        out.append(dict(tool="adue-compile features", case=case, threads=threads, rows=rows,
                        wall_rows_per_s=rows / wall, loop_rows_per_s=loop))
    return out


def session(path, threads):
    """CPU onnxruntime session with `threads` intra-op threads."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def bench_latency(case, models, grafted, threads, batch, rounds):
    """Median latency (ms) of the original (and grafted) model on one batch of real test texts."""
    tok, pad_id = reference_features.load_tokenizer(ROOT / "fixtures" / case / "e2e" / "tokenizer.json",
                                                    CASES[case])
    feed_all = reference_features.pad_batch(tok.encode_batch(texts_of(case)[:batch]), pad_id)
    sessions = {"original": session(models / case / "model.onnx", threads)}
    if grafted:
        sessions["grafted"] = session(pathlib.Path(grafted) / case / "full.onnx", threads)
    feeds = {k: {i.name: feed_all[i.name] for i in s.get_inputs()} for k, s in sessions.items()}
    times = {k: [] for k in sessions}
    order = list(sessions)
    for r in range(rounds + 5):
        # Interleaved, so both see the same machine load; the order alternates per round so
        # that neither model always runs second (warm caches).
        for k in order if r % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            sessions[k].run(None, feeds[k])
            if r >= 5:
                times[k].append((time.perf_counter() - start) * 1e3)
    result = dict(case=case, threads=threads, batch=batch, seq=int(feed_all["input_ids"].shape[1]), rounds=rounds,
                  original_ms=statistics.median(times["original"]))
    if grafted:
        result["grafted_ms"] = statistics.median(times["grafted"])
        result["overhead"] = result["grafted_ms"] / result["original_ms"] - 1
        # Per-round ratio (both runs of a round see nearly the same load), then the median:
        # less sensitive to load drift across the run than the ratio of the two medians.
        ratios = [g / o for g, o in zip(times["grafted"], times["original"])]
        result["paired_overhead"] = statistics.median(ratios) - 1
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=os.environ.get("ADUE_E2E_MODELS", str(ROOT / ".cache" / "e2e" / "models")))
    ap.add_argument("--hf", default=str(ROOT / ".cache" / "e2e" / "hf"), help="hf_dirs.py output")
    ap.add_argument("--adue-compile", dest="adue", help="adue-compile binary with the `features` command")
    ap.add_argument("--grafted", help="DIR/<case>/full.onnx grafted models")
    ap.add_argument("--case", action="append", choices=sorted(CASES))
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--skip-features", action="store_true")
    ap.add_argument("--json", help="append result lines to this JSONL file")
    args = ap.parse_args()
    models, results = pathlib.Path(args.models), []
    stamp = dict(when=time.strftime("%Y-%m-%d %H:%M:%S"), loadavg=os.getloadavg()[0])
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.case or list(CASES):
            for threads in (1, 2):
                if not args.skip_features:
                    for r in bench_features(case, threads, pathlib.Path(args.hf), args.adue, models, pathlib.Path(tmp)):
                        r.update(kind="features", loadavg=os.getloadavg()[0])
                        results.append(r)
                        loop = f"{r['loop_rows_per_s']:.1f}" if r["loop_rows_per_s"] else "-"
                        print(f"features {r['tool']:26} {case:17} threads {threads}  wall {r['wall_rows_per_s']:7.1f} "
                              f"rows/s  loop {loop:>7} rows/s  (load {r['loadavg']:.1f})")
                for batch in (1, 32):
                    r = bench_latency(case, models, args.grafted, threads, batch, args.rounds)
                    r.update(kind="latency", loadavg=os.getloadavg()[0])
                    results.append(r)
                    extra = (f"  grafted {r['grafted_ms']:.2f} ms  overhead {100 * r['overhead']:+.1f} % "
                             f"(paired {100 * r['paired_overhead']:+.1f} %)") if args.grafted else ""
                    print(f"latency  {case:17} threads {threads} batch {batch:2} seq {r['seq']}  original "
                          f"{r['original_ms']:.2f} ms{extra}  (load {r['loadavg']:.1f})")
    if args.json:
        with open(args.json, "a") as f:
            for r in results:
                f.write(json.dumps(dict(stamp, **r)) + "\n")


if __name__ == "__main__":
    main()
