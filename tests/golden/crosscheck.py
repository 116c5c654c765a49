#!/usr/bin/env python3
"""Cross-checks of our metric conventions against two widely used implementations, on the
same scores as the golden files (tests/golden/<case>.json, which the Rust code matches to
1e-9):

- ECE / MCE against torchmetrics' MulticlassCalibrationError (n_bins=15, norm l1 / max);
- normalised PRR against lm-polygraph's PredictionRejectionArea + normalize_metric
  (oracle = the metric of -target, random = mean over 1000 seeded shuffles), with
  target = 1 - e (quality, higher is better), as lm-polygraph's UEManager computes
  "prr_normalized".

Known convention differences (so exact equality is not expected):
- torchmetrics bins are [lo, hi) via bucketize(right=True) - 1, with confidence exactly 1.0
  in a 16th bin of its own; ours are (lo, hi] with 1.0 in the last bin (CONTRACT §5). They
  agree when no confidence lies exactly on an edge k/15 or equals 1.
- lm-polygraph's area is the mean over k = 1..N of the quality of the k most trusted
  samples, ties broken by numpy's argsort, and its random baseline is a Monte-Carlo mean;
  ours is the same rectangle mean with a run of tied scores averaged over its orders and
  random = error rate exactly. So `lm_polygraph_exact_random` equals ours to rounding where
  no score is tied (`tied_scores` = 0), and `lm_polygraph` differs by the Monte-Carlo noise
  of its random baseline (up to ~2e-3).

lm-polygraph is installed with --no-deps (its dependency set is very large); only its
ue_metrics files are loaded, by path, without running the package __init__.

Usage: python tests/golden/crosscheck.py   (writes tests/golden/crosscheck.json)
"""
import json
import pathlib
import sys

import numpy as np
import torch
from scipy.special import log_softmax
from torchmetrics.classification import MulticlassCalibrationError

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from metrics_golden import ROOT, load  # noqa: E402
from lm_polygraph_golden import lm_polygraph_ue_metrics  # noqa: E402


def lm_polygraph_metrics():
    """PredictionRejectionArea, get_random_scores, normalize_metric from the installed
    lm-polygraph (loaded by file, see lm_polygraph_golden.py)."""
    mods = lm_polygraph_ue_metrics(("ue_metric", "pred_rej_area"))
    return (mods["pred_rej_area"].PredictionRejectionArea, mods["ue_metric"].get_random_scores,
            mods["ue_metric"].normalize_metric)


def main():
    PRA, random_scores, normalize = lm_polygraph_metrics()
    prr_metric = PRA()
    out = {}
    for gfile in sorted(HERE.glob("*.json")):
        if gfile.name in ("crosscheck.json", "lm_polygraph_golden.json"):
            continue
        g = json.loads(gfile.read_text())
        case = g["case"]
        out[case] = {}
        for split in ("val", "test"):
            x, y, z, _ = load(pathlib.Path(g["dir"]) / f"{split}.safetensors")
            gs = g["splits"][split]
            logp = log_softmax(z.astype(np.float64), axis=1)
            probs = torch.from_numpy(np.exp(logp))
            target = torch.from_numpy(y)
            c = z.shape[1]
            tm_ece = float(MulticlassCalibrationError(num_classes=c, n_bins=15, norm="l1")(probs, target))
            tm_mce = float(MulticlassCalibrationError(num_classes=c, n_bins=15, norm="max")(probs, target))
            conf = np.exp(logp.max(axis=1))
            on_edge = int(np.isin(conf, np.arange(16) / 15).sum())
            e = (np.argmax(z, axis=1) != y).astype(np.float64)
            row = {
                "ece_ours": gs["calibration"]["ece"],
                "ece_torchmetrics": tm_ece,
                "mce_ours": gs["calibration"]["mce"],
                "mce_torchmetrics": tm_mce,
                "confidences_on_a_bin_edge_or_1": on_edge,
                "prr": {},
            }
            quality = 1.0 - e
            if 0 < e.sum() < len(e):
                oracle = prr_metric(-quality, quality)
                rnd = random_scores(prr_metric, quality)
                # The same formula with the exact random baseline: the expected top-k quality
                # of a random order is the mean quality for every k.
                exact_rnd = float(quality.mean())
                for m, u in gs["scores"].items():
                    area = prr_metric(np.array(u), quality)
                    row["prr"][m] = {
                        "ours": gs["methods"][m]["prr"],
                        "lm_polygraph": float(normalize(area, oracle, rnd)),
                        "lm_polygraph_exact_random": float(normalize(area, oracle, exact_rnd)),
                        "tied_scores": int(len(u) - len(np.unique(u))),
                    }
            out[case][split] = row
    (HERE / "crosscheck.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"{'case/split':<26} {'ECE ours':>10} {'torchmetrics':>12} {'|diff|':>9} {'MCE ours':>9} "
          f"{'torchm.':>9} {'edge':>5}")
    for case, splits in out.items():
        for split, r in splits.items():
            print(f"{case + '/' + split:<26} {r['ece_ours']:>10.6f} {r['ece_torchmetrics']:>12.6f} "
                  f"{abs(r['ece_ours'] - r['ece_torchmetrics']):>9.1e} {r['mce_ours']:>9.6f} "
                  f"{r['mce_torchmetrics']:>9.6f} {r['confidences_on_a_bin_edge_or_1']:>5}")
    print(f"\n{'case/split/method':<48} {'PRR ours':>10} {'lm-polygraph':>12} {'diff':>9} "
          f"{'exact random':>12} {'diff':>9} {'ties':>5}")
    for case, splits in out.items():
        for split, r in splits.items():
            for m, p in r["prr"].items():
                print(f"{case + '/' + split + '/' + m:<48} {p['ours']:>10.6f} {p['lm_polygraph']:>12.6f} "
                      f"{p['lm_polygraph'] - p['ours']:>+9.1e} {p['lm_polygraph_exact_random']:>12.6f} "
                      f"{p['lm_polygraph_exact_random'] - p['ours']:>+9.1e} {p['tied_scores']:>5}")


if __name__ == "__main__":
    main()
