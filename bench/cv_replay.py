"""Replays cross-validated selection rules on the curves `cargo bench --bench cv_study` prints.

Each input file is one JSON object (one case, one seed, one grid): per configuration its
checkpoints, the mean held-out-fold error ROC-AUC at each checkpoint (`cv_mean`) and the test
error ROC-AUC of the same configuration trained on all training rows at each checkpoint
(`test`, what the refit would give). A rule picks a (configuration, checkpoint) from the CV
curves alone, exactly as `fit_cv` does (centred moving average of odd width `w` over the
defined neighbours, highest smoothed mean, ties: grid order, then the earlier checkpoint);
the script prints the test AUC of that pick. No test number enters a pick.

    python bench/cv_replay.py bench/cv/*.json [--subset 'lambda=30,schedule=full_batch'] [--w 1]
"""

import argparse
import json
import sys


def smooth(curve, w):
    half = w // 2
    out = []
    for j, v in enumerate(curve):
        if v is None:
            out.append(None)
            continue
        vals = [x for x in curve[max(0, j - half) : j + half + 1] if x is not None]
        out.append(sum(vals) / len(vals))
    return out


def pick(configs, w):
    """(config, checkpoint index, smoothed score) with the highest smoothed mean fold AUC."""
    best = None
    for c in configs:
        s = smooth(c["cv_mean"], w)
        for j, v in enumerate(s):
            if v is None:
                continue
            if best is None or v > best[2]:
                best = (c, j, v)
    return best


def matches(c, subset):
    for key, val in subset.items():
        if str(c[key]) not in val.split("|"):
            return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--subset", default="", help="key=v1|v2,key=v (alpha, beta, lr, lambda, epochs, schedule)")
    ap.add_argument("--w", type=int, default=1)
    args = ap.parse_args()
    subset = dict(kv.split("=", 1) for kv in args.subset.split(",") if kv)
    for f in args.files:
        d = json.load(open(f))
        configs = [c for c in d["configs"] if matches(c, subset)]
        if not configs:
            print(f"{d['case']}: no configuration matches", file=sys.stderr)
            continue
        c, j, score = pick(configs, args.w)
        test = c["test"][j] if c.get("test") else None
        print(
            json.dumps(
                {
                    "case": d["case"],
                    "seed": d["seed"],
                    "configs": len(configs),
                    "w": args.w,
                    "pick": {k: c[k] for k in ("alpha", "beta", "lr", "lambda", "epochs", "schedule")},
                    "passes": c["checkpoints"][j],
                    "cv": round(score, 4),
                    "test": None if test is None else round(test, 4),
                    "sr_test": round(d["sr_test_roc_auc"], 4),
                }
            )
        )


if __name__ == "__main__":
    main()
