#!/usr/bin/env python3
"""Certificate simulation (issue 13, item 2; design note bench/STATS_DESIGN.md §2).

(i)  Selection on the certification rows. K exchangeable scorers U_k = mu*e + a*z + b*eps_k
     (z shared by all scorers, eps_k their own; z, eps ~ N(0, 1), a^2 + b^2 = 1), so every
     scorer has the same population risk curve
         risk(tau) = pi*Phi(tau - mu) / (pi*Phi(tau - mu) + (1 - pi)*Phi(tau)).
     The scorer with the best val error ROC-AUC is certified with `current` (threshold.rs)
     on the same val rows, on untouched calibration rows, or on the other half of a split val.
     Failure: risk(tau_hat) > R.
(ii) Restart validity: U ~ Uniform(0, 1), P(error | U = u) = p(u) for several p (monotone,
     a spike of errors at the most confident end, flat just above R), risk(tau) =
     int_0^tau p / tau; `current` (rank restarts) vs `fixed_restarts` (thresholds from
     another sample) vs a plain fixed sequence.

    python bench/stats/sim_certificate.py [--draws 2000]   # writes bench/stats/sim_certificate.json
"""
import argparse
import json
import pathlib

import numpy as np
from scipy.stats import norm, rankdata

import certify

HERE = pathlib.Path(__file__).resolve().parent
R, DELTA = 0.08, 0.1


def aucs(U, e):
    """Error ROC-AUC of every column of U."""
    r = rankdata(U, axis=0)
    n1 = e.sum()
    return (r[e].sum(axis=0) - n1 * (n1 + 1) / 2) / (n1 * (len(e) - n1))


def risk_normal(tau, mu, pi):
    a, b = pi * norm.cdf(tau - mu), (1 - pi) * norm.cdf(tau)
    return a / (a + b)


def draw_rows(rng, n, pi, mu, a, b, K):
    e = rng.uniform(size=n) < pi
    U = mu * e[:, None] + a * rng.normal(size=(n, 1)) + b * rng.normal(size=(n, K))
    return e, U


def selection_study(draws, seed, K, n_val=400, pi=0.15, mu=1.6, b=0.57):
    a = np.sqrt(1 - b * b)
    rng = np.random.default_rng(seed)
    fail = {"same_rows": 0, "fresh_400": 0, "split_200_200": 0}
    cert = dict.fromkeys(fail, 0)
    spread, best_gain = [], []
    for _ in range(draws):
        e, U = draw_rows(rng, n_val, pi, mu, a, b, K)
        v = aucs(U, e)
        spread.append(v.std())
        best = int(np.argmax(v))
        best_gain.append(v[best] - v.mean())
        # (a) certified on the rows that selected it
        t = certify.current(U[:, best], e, R, DELTA)
        # (b) on 400 fresh rows of the same population
        ef, Uf = draw_rows(rng, 400, pi, mu, a, b, 1)
        tf = certify.current(Uf[:, 0], ef, R, DELTA)
        # (c) val split in two seeded halves: select on one, certify on the other
        half = rng.permutation(n_val)
        s, c = half[: n_val // 2], half[n_val // 2:]
        best_s = int(np.argmax(aucs(U[s], e[s])))
        ts = certify.current(U[c, best_s], e[c], R, DELTA)
        for name, res in (("same_rows", t), ("fresh_400", tf), ("split_200_200", ts)):
            if res is not None:
                cert[name] += 1
                fail[name] += risk_normal(res[0], mu, pi) > R
    return {
        "K": K, "draws": draws, "n_val": n_val, "pi": pi, "mu": mu, "b": b,
        "population_auc": float(norm.cdf(mu / np.sqrt(2))),
        "val_auc_sd_across_scorers": float(np.mean(spread)),
        "selected_minus_mean_val_auc": float(np.mean(best_gain)),
        "failure_rate": {k: fail[k] / draws for k in fail},
        "certified_rate": {k: cert[k] / draws for k in cert},
    }


P_FUNCS = {
    # name: (p(u), int_0^u p)
    "linear_0.3u": (lambda u: 0.3 * u, lambda u: 0.15 * u * u),
    "spike_then_rise": (
        lambda u: np.where(u < 0.02, 0.5, np.where(u < 0.5, 0.02, 0.3)),
        lambda u: np.where(u < 0.02, 0.5 * u, np.where(u < 0.5, 0.01 + 0.02 * (u - 0.02),
                                                      0.01 + 0.0096 + 0.3 * (u - 0.5)))),
    "flat_just_above_R": (lambda u: np.full_like(u, R + 0.01), lambda u: (R + 0.01) * u),
    "flat_at_R_then_rise": (lambda u: np.where(u < 0.6, R, 0.5),
                            lambda u: np.where(u < 0.6, R * u, 0.6 * R + 0.5 * (u - 0.6))),
}


def restart_study(draws, seed, n_cal=400):
    rng = np.random.default_rng(seed)
    out = {}
    for name, (p, cum) in P_FUNCS.items():
        fails = {"current_rank_restarts": 0, "fixed_restarts": 0, "fixed_sequence": 0}
        certs = dict.fromkeys(fails, 0)
        for _ in range(draws):
            u = rng.uniform(size=n_cal)
            e = rng.uniform(size=n_cal) < p(u)
            other = rng.uniform(size=n_cal)  # rows outside calibration, same U law
            taus_w = certify.restart_taus(other, n_cal, R, DELTA)
            res = {
                "current_rank_restarts": certify.current(u, e, R, DELTA),
                "fixed_restarts": certify.fixed_restarts(u, e, R, DELTA, taus_w),
                "fixed_sequence": certify.fixed_sequence(u, e, R, DELTA, taus_w[0][0]),
            }
            for k, r in res.items():
                if r is not None:
                    certs[k] += 1
                    tau = max(r[0], 1e-12)
                    fails[k] += float(cum(np.array(tau))) / tau > R
        out[name] = {"failure_rate": {k: v / draws for k, v in fails.items()},
                     "certified_rate": {k: v / draws for k, v in certs.items()}}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=2000)
    a = ap.parse_args()
    res = {"R": R, "delta": DELTA, "selection": [], "restarts": None}
    for K in (1, 18, 90, 360):
        r = selection_study(a.draws, 100 + K, K)
        res["selection"].append(r)
        print(json.dumps(r))
    res["restarts"] = restart_study(max(a.draws, 5000), 7)
    print(json.dumps(res["restarts"], indent=1))
    (HERE / "sim_certificate.json").write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
