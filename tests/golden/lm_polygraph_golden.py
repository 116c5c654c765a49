#!/usr/bin/env python3
"""Golden AURC / PRR values computed by lm-polygraph's own code (issue 13, item 4).

lm-polygraph 0.7.0 (`lm_polygraph/ue_metrics/`), read for this script:
- `RiskCoverageCurveAUC()(estimator, target)` ("rcc-auc"): target min-max normalised,
  risk = 1 - target, rows sorted by the estimator with Python's *stable* `list.sort`
  (ties keep input order), cumulative risk / k, **mean over k = 1..N**:
  AURC = (1/N) * sum_k r_k, r_k = error rate of the k most trusted rows.
- `PredictionRejectionArea()(estimator, target)` ("prr"): rows sorted by `np.argsort`
  (default kind, *not stable*: tie order is up to numpy's sort kernel), mean over k of the
  mean quality of the k most trusted rows = 1 - AURC for a 0/1 quality.
- `UEManager.eval_ue` normalises "prr" as (PRA - random) / (oracle - random), oracle =
  PRA(-target, target), random = `get_random_scores` = mean PRA over 1000 shuffles of
  `np.arange(N)` (np.random.seed(42)): a Monte-Carlo estimate of E[PRA] = mean quality.
  In AURC terms PRR = (AURC_random - AURC) / (AURC_random - AURC_oracle), with
  AURC_random = error rate (exactly, in expectation) and AURC_oracle the rectangle area of
  the order that puts every correct row first.

Conventions compared here (u = uncertainty, e = error flag, N rows):
- `rect`       : (1/N) sum_k r_k after a stable sort (== rcc-auc; tie order = input order);
- `rect_tieavg`: the expectation of `rect` over uniformly random orders within each run of
                 tied scores: a run of g rows with m errors entered after k0 rows / E0 errors
                 contributes (1/N) sum_{j=1..g} (E0 + j*m/g) / (k0 + j). Invariant to row
                 order; equals `rect` without ties (the ROC-AUC "ties count 1/2" analogue);
- `rect_group` : CONTRACT §5 as written: one point per distinct score, right endpoints,
                 (1/N) sum_groups g * r(after the group);
- `trapezoid`  : the code on main until issue 13 (trapezoid from (0, r_1), one point per
                 distinct score), kept to explain the 0.7009 vs 0.7100 gap.
PRR of each convention uses the exact random baseline (error rate) and the rectangle
oracle; `prr_lm_polygraph` is lm-polygraph's literal normalised value (Monte-Carlo random).

The Rust test `tests/it/score_lm_polygraph.rs` holds the tool's AURC / E-AURC / PRR to these
values at 1e-12 (`rect_tieavg`; lm-polygraph's own `rcc_auc` where no score is tied).

Usage (numpy, safetensors; lm-polygraph installed with --no-deps, see requirements):
    python tests/golden/lm_polygraph_golden.py    # writes tests/golden/lm_polygraph_golden.json
"""
import importlib.util
import itertools
import json
import pathlib
import sys
import types

import numpy as np
from safetensors.numpy import load_file

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
REAL = ["bbc-bert-linear", "bbc-minilm-score", "bbc-roberta"]


def lm_polygraph_ue_metrics(names=("ue_metric", "pred_rej_area", "risk_cov_curve")):
    """lm-polygraph's ue_metrics modules, loaded by file: the package __init__ imports its
    whole model stack (torch, transformers, ...), these files import only numpy."""
    spec = importlib.util.find_spec("lm_polygraph")
    if spec is None:
        raise SystemExit("lm-polygraph is not installed (pip install --no-deps lm-polygraph==0.7.0)")
    base = pathlib.Path(spec.submodule_search_locations[0]) / "ue_metrics"
    pkg = types.ModuleType("lmpg_ue_metrics")
    pkg.__path__ = [str(base)]
    sys.modules["lmpg_ue_metrics"] = pkg
    mods = {}
    for name in names:
        s = importlib.util.spec_from_file_location(f"lmpg_ue_metrics.{name}", base / f"{name}.py")
        m = importlib.util.module_from_spec(s)
        sys.modules[s.name] = m
        s.loader.exec_module(m)
        mods[name] = m
    return mods


# ------------------------------------------------------------- our conventions, in numpy
def runs(u, e):
    """Runs of tied scores in ascending order: (size, errors) per run."""
    order = np.argsort(u, kind="stable")
    us, es = u[order], e[order].astype(np.float64)
    starts = np.r_[0, np.nonzero(us[1:] != us[:-1])[0] + 1]
    sizes = np.diff(np.r_[starts, len(u)])
    return sizes, np.add.reduceat(es, starts)


def aurc_rect(u, e):
    order = np.argsort(u, kind="stable")
    k = np.arange(1, len(u) + 1)
    return float(np.mean(np.cumsum(e[order]) / k))


def aurc_rect_tieavg(u, e):
    total, k0, e0 = 0.0, 0, 0.0
    for g, m in zip(*runs(u, e)):
        j = np.arange(1, g + 1)
        total += float(np.sum((e0 + j * m / g) / (k0 + j)))
        k0, e0 = k0 + g, e0 + m
    return total / len(u)


def aurc_rect_group(u, e):
    sizes, errs = runs(u, e)
    k, ek = np.cumsum(sizes), np.cumsum(errs)
    return float(np.sum(sizes * ek / k) / len(u))


def aurc_trapezoid(u, e):
    sizes, errs = runs(u, e)
    k, ek = np.cumsum(sizes), np.cumsum(errs)
    risk = ek / k
    return float(np.trapezoid(np.r_[risk[0], risk], np.r_[0.0, k / len(u)]))


def aurc_oracle_rect(e):
    return aurc_rect(np.arange(len(e)) + np.asarray(e) * len(e), np.asarray(e, dtype=np.float64))


def aurc_oracle_trapezoid(e):
    e = np.asarray(e, dtype=np.float64)
    return aurc_trapezoid(np.arange(len(e)) + e * len(e), e)


def prr(aurc, e, oracle=None):
    rate = float(np.mean(e))
    oracle = aurc_oracle_rect(e) if oracle is None else oracle
    return (rate - aurc) / (rate - oracle)


# ------------------------------------------------------------- scores from the fixtures
def fixture_scores(case, split):
    t = load_file(str(ROOT / "fixtures" / case / f"{split}.safetensors"))
    z = t["logits"].astype(np.float32).astype(np.float64)
    y = t["labels"].astype(np.int64)
    logp = z - z.max(axis=1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
    p = np.exp(logp)
    e = (np.argmax(z, axis=1) != y).astype(np.float64)
    return e, {"softmax_response": 1.0 - np.exp(logp.max(axis=1)), "entropy": -(p * logp).sum(axis=1)}


def synthetic_cases():
    """Small vectors with ties (and one without), fixed seeds."""
    rng = np.random.default_rng(13)
    out = {
        "hand_ties": (np.array([0.2, 0.1, 0.9, 0.2]), np.array([1.0, 0, 1, 0])),
        "all_tied": (np.full(6, 0.5), np.array([0.0, 1, 0, 0, 1, 0])),
        "error_first_untied": (np.array([0.05, 0.1, 0.2, 0.3, 0.4, 0.5]), np.array([1.0, 0, 0, 1, 0, 0])),
    }
    u = np.round(rng.uniform(size=200), 1)  # 11 distinct values: heavy ties
    e = (rng.uniform(size=200) < 0.1 + 0.5 * u).astype(np.float64)
    out["rounded_200"] = (u, e)
    u = rng.normal(size=300)
    e = (rng.uniform(size=300) < 1 / (1 + np.exp(-2 * u - 1.5))).astype(np.float64)
    out["untied_300"] = (u, e)
    return out


def evaluate(u, e, lmpg, rng_perms):
    quality = 1.0 - e
    rcc = lmpg["risk_cov_curve"].RiskCoverageCurveAUC()
    pra = lmpg["pred_rej_area"].PredictionRejectionArea()
    ue = lmpg["ue_metric"]
    area = pra(u, quality)
    oracle = pra(-quality, quality)
    random_mc = ue.get_random_scores(pra, quality)
    row = {
        "n": len(u), "errors": int(e.sum()), "tied_rows": int(len(u) - len(np.unique(u))),
        "lm_polygraph": {
            "rcc_auc": float(rcc(u, quality)),
            "pra": float(area),
            "pra_oracle": float(oracle),
            "pra_random_mc": float(random_mc),
            "prr_normalized": float(ue.normalize_metric(area, oracle, random_mc)),
            "prr_exact_random": float(ue.normalize_metric(area, oracle, float(quality.mean()))),
        },
    }
    ours = {
        "rect": aurc_rect(u, e), "rect_tieavg": aurc_rect_tieavg(u, e),
        "rect_group": aurc_rect_group(u, e), "trapezoid": aurc_trapezoid(u, e),
    }
    row["aurc"] = ours
    row["aurc_oracle_rect"] = aurc_oracle_rect(e)
    row["e_aurc_tieavg"] = ours["rect_tieavg"] - row["aurc_oracle_rect"]
    row["prr"] = {k: prr(v, e) for k, v in ours.items() if k != "trapezoid"}
    row["prr"]["trapezoid"] = prr(ours["trapezoid"], e, aurc_oracle_trapezoid(e))
    # lm-polygraph's rcc-auc over random re-orderings of the rows: with ties it moves;
    # its mean converges to rect_tieavg.
    vals = []
    for _ in range(rng_perms):
        p = np.random.default_rng(len(vals)).permutation(len(u))
        vals.append(float(rcc(u[p], quality[p])))
    row["lm_polygraph_rcc_auc_over_row_orders"] = {
        "perms": rng_perms, "min": min(vals), "max": max(vals), "mean": float(np.mean(vals)),
    }
    return row


def exact_tie_average_check(lmpg):
    """On the 4-row hand case, average rcc-auc over every row order: equals rect_tieavg."""
    u, e = synthetic_cases()["hand_ties"]
    rcc = lmpg["risk_cov_curve"].RiskCoverageCurveAUC()
    vals = [rcc(u[list(p)], 1.0 - e[list(p)]) for p in itertools.permutations(range(len(u)))]
    return {"mean_over_all_24_orders": float(np.mean(vals)), "rect_tieavg": aurc_rect_tieavg(u, e)}


def main():
    lmpg = lm_polygraph_ue_metrics()
    out = {"lm_polygraph_version": "0.7.0", "fixtures": {}, "synthetic": {}}
    for case in REAL:
        for split in ("val", "test"):
            e, scores = fixture_scores(case, split)
            for m, u in scores.items():
                out["fixtures"][f"{case}/{split}/{m}"] = evaluate(u, e, lmpg, 50)
    for name, (u, e) in synthetic_cases().items():
        out["synthetic"][name] = evaluate(u, e, lmpg, 200)
        # the vectors themselves, for the Rust test (numpy's generator is not reproducible there)
        out["synthetic"][name]["u"] = [float(v) for v in u]
        out["synthetic"][name]["e"] = [int(v) for v in e]
    out["tie_average_exact"] = exact_tie_average_check(lmpg)
    (HERE / "lm_polygraph_golden.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"{'case':<44} {'ties':>4} {'rcc-auc':>9} {'tieavg':>9} {'group':>9} {'trapez':>9} "
          f"{'PRR lmpg':>9} {'PRR exact':>9} {'PRR tieavg':>10} {'PRR trap':>9}")
    for k, r in {**out["fixtures"], **out["synthetic"]}.items():
        lp = r["lm_polygraph"]
        print(f"{k:<44} {r['tied_rows']:>4} {lp['rcc_auc']:>9.6f} {r['aurc']['rect_tieavg']:>9.6f} "
              f"{r['aurc']['rect_group']:>9.6f} {r['aurc']['trapezoid']:>9.6f} {lp['prr_normalized']:>9.5f} "
              f"{lp['prr_exact_random']:>9.5f} {r['prr']['rect_tieavg']:>10.5f} {r['prr']['trapezoid']:>9.5f}")
    print("tie average over all orders:", out["tie_average_exact"])


if __name__ == "__main__":
    main()
