"""The issue-13 table: default `fit` (cross-validated selection, refit on all of --train) against
the fixed-configuration all-rows reference, on every real fixture, in one run.

For each fixture: `adue-compile fit` with its defaults (--train, --val, --test; wall time measured),
then from its report.json the test error ROC-AUC of AdUE and of the softmax response and the paired
bootstrap 95% interval of their difference; the reference (λ 30, α 0.1, β 0.01, lr 1e-3, full-batch
Adam, 300 steps, trained on all of --train, `bench/grids/reference.json`) is trained by
`cargo bench --bench cv_study` with the same engine, and its test AUC after 300 steps read from
the trace. Prints a Markdown table and writes bench/cv/table.json.

    cargo build --release --bin adue-compile --bench cv_study
    python bench/cv_table.py --bin target/release/adue-compile --study target/release/deps/cv_study-HASH
"""

import argparse
import json
import math
import os
import struct
import subprocess
import tempfile
import time

import numpy as np

CASES = ["bbc-bert-linear", "bbc-roberta", "bbc-minilm-score"]


def fixture(case, name):
    return os.path.join("fixtures", case, name)


def read_scores(path, split):
    """`split/u/adue`, `split/u/softmax_response` and `split/errors` of a scores.safetensors."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    body = raw[8 + n :]

    def tensor(key, dtype):
        a, b = header[key]["data_offsets"]
        return np.frombuffer(body[a:b], dtype=dtype)

    return (
        tensor(f"{split}/u/adue", "<f8"),
        tensor(f"{split}/u/softmax_response", "<f8"),
        tensor(f"{split}/errors", "u1").astype(bool),
    )


def delong_paired(a, b, e):
    """AUC(a) − AUC(b) against errors `e` and its paired DeLong standard error
    (DeLong, DeLong & Clarke-Pearson 1988), ties ½."""

    def components(u):
        pos, neg = u[e], u[~e]
        gt = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
        return gt.mean(), gt.mean(axis=1), gt.mean(axis=0)

    (auc_a, v10a, v01a), (auc_b, v10b, v01b) = components(a), components(b)
    d10, d01 = v10a - v10b, v01a - v01b
    se = math.sqrt(d10.var(ddof=1) / len(d10) + d01.var(ddof=1) / len(d01))
    return auc_a - auc_b, se


def run_fit(binary, case, out, threads):
    cmd = [
        binary, "-q", "fit",
        "--checkpoint", fixture(case, "adapter"),
        "--train", fixture(case, "train.safetensors"),
        "--val", fixture(case, "val.safetensors"),
        "--test", fixture(case, "test.safetensors"),
        "--out", out, "--threads", str(threads),
    ]
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def reference(study, case, threads):
    cmd = [
        study, "--case", case,
        "--train", fixture(case, "train.safetensors"),
        "--test", fixture(case, "test.safetensors"),
        "--checkpoint", fixture(case, "adapter"),
        "--grid", "bench/grids/reference.json", "--threads", str(threads),
    ]
    d = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    (cfg,) = d["configs"]
    assert cfg["checkpoints"][-1] == 300, cfg["checkpoints"]
    return cfg["test"][-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--study", required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    rows = []
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "fit")
            wall = run_fit(args.bin, case, out, args.threads)
            r = json.load(open(os.path.join(out, "report.json")))
            d, se = delong_paired(*read_scores(os.path.join(out, "scores.safetensors"), "test"))
        ref = reference(args.study, case, args.threads)
        diff = r["comparisons"]["adue_vs_softmax_response"]["test"]["roc_auc_diff"]
        sel = r["fit"]["selected"]
        rows.append(
            {
                "case": case,
                "default_auc": r["methods"]["adue"]["test"]["roc_auc"]["value"],
                "reference_auc": ref,
                "sr_auc": r["methods"]["softmax_response"]["test"]["roc_auc"]["value"],
                "diff": diff["value"],
                "diff_ci95": diff["ci95"],
                "ci_method": diff["ci_method"],
                "delong_diff": d,
                "delong_ci95": [d - 1.959964 * se, d + 1.959964 * se],
                "fit_s": wall,
                "selected": {k: sel[k] for k in ("alpha", "beta", "lr", "lambda", "schedule", "best_epoch")},
                "cv_score": sel["val_roc_auc"],
                "test_rows": r["data"]["test"]["rows"],
                "test_errors": r["data"]["test"]["errors"],
            }
        )
    os.makedirs("bench/cv", exist_ok=True)
    with open("bench/cv/table.json", "w") as f:
        json.dump(rows, f, indent=1)
    print("| fixture | default AUC | reference AUC | default − ref | SR AUC | AdUE − SR [paired bootstrap 95%] | [paired DeLong 95%] | fit s | selected (α, lr, λ, steps) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for x in rows:
        s = x["selected"]
        lo, hi = x["diff_ci95"]
        dlo, dhi = x["delong_ci95"]
        print(
            f"| {x['case']} | {x['default_auc']:.4f} | {x['reference_auc']:.4f} | "
            f"{x['default_auc'] - x['reference_auc']:+.4f} | {x['sr_auc']:.4f} | "
            f"{x['diff']:+.4f} [{lo:+.4f}, {hi:+.4f}] | [{dlo:+.4f}, {dhi:+.4f}] | {x['fit_s']:.1f} | "
            f"{s['alpha']}, {s['lr']}, {s['lambda']}, {s['best_epoch']} |"
        )


if __name__ == "__main__":
    main()
