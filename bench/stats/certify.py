"""The certified-threshold procedures of issue 13, in numpy (reference for src/export/threshold.rs).

A candidate tau accepts the calibration rows with U <= tau: n rows, k errors. The exact
one-sided Clopper-Pearson bound UCB(k, n; a) (the 1 - a quantile of Beta(k + 1, n - k)) is
<= R exactly when P(Bin(n, R) <= k) <= a (the test's duality), which is what is computed here.

- `current`: src/export/threshold.rs on main: candidates = distinct calibration scores,
  fallback (Wiens 2003) allocation delta/2^(j+1) at the first candidate accepting >= m0*2^j
  rows (restart points placed by rank, i.e. at data-dependent thresholds).
- `fixed_restarts`: the same fallback procedure with the restarts at thresholds fixed
  before the calibration rows are seen (`taus`, e.g. U quantiles of rows outside the
  calibration split); every continuum point tau is a hypothesis, the candidates are the
  distinct calibration scores plus the restart thresholds.
Both return (tau, n, k, level) of the largest certified candidate, or None.
"""
import math

import numpy as np
from scipy.stats import binom


def min_accepted(R, a):
    """Fewest rows for which zero errors pass at level a: 1 - a^(1/n) <= R."""
    n = max(1, math.ceil(math.log(a) / math.log(1.0 - R)) - 1)
    while -math.expm1(math.log(a) / n) > R:
        n += 1
    return n


def candidates(u, e, extra=()):
    """Distinct calibration scores (and `extra` thresholds) ascending with cumulative counts."""
    order = np.argsort(u, kind="stable")
    us, es = u[order], e[order]
    cum_e = np.cumsum(es)
    last = np.r_[np.nonzero(us[1:] != us[:-1])[0], len(u) - 1]
    taus = us[last]
    if len(extra):
        taus = np.union1d(taus, np.asarray(extra, dtype=np.float64))
    n = np.searchsorted(us, taus, side="right")
    k = np.where(n > 0, cum_e[np.maximum(n - 1, 0)], 0)
    return taus, n, k.astype(np.int64)


def fallback(taus, n, k, alloc, R):
    """Fallback procedure over the ordered candidates: level carried along a run of
    rejections, lost at a failure. Returns the largest rejected candidate."""
    with np.errstate(divide="ignore"):
        pval = np.where(n > k, binom.cdf(k, np.maximum(n, 1), R), 1.0)
    level, best = 0.0, None
    for i in range(len(taus)):
        level += alloc[i]
        if level > 0.0 and pval[i] <= level:
            best = (float(taus[i]), int(n[i]), int(k[i]), level)
        else:
            level = 0.0
    return best


def rank_allocation(n, R, delta):
    """threshold.rs: delta/2^(j+1) at the first candidate with n >= m0 * 2^j."""
    m0 = min_accepted(R, delta / 2.0)
    alloc = np.zeros(len(n))
    point, weight, i = m0, delta / 2.0, 0
    while i < len(n):
        if n[i] >= point:
            alloc[i] += weight
            point, weight = point * 2, weight / 2.0
        else:
            i += 1
    return alloc


def current(u, e, R, delta):
    taus, n, k = candidates(u, e)
    return fallback(taus, n, k, rank_allocation(n, R, delta), R)


def restart_taus(u_other, n_cal, R, delta):
    """Fixed restart thresholds: the U quantiles, on rows that are not calibration rows, at
    the fractions m0 * 2^j / n_cal (the ranks threshold.rs uses), with weights delta/2^(j+1)."""
    m0 = min_accepted(R, delta / 2.0)
    taus, weights, j = [], [], 0
    while m0 * 2**j <= n_cal:
        taus.append(float(np.quantile(u_other, m0 * 2**j / n_cal, method="inverted_cdf")))
        weights.append(delta / 2 ** (j + 1))
        j += 1
    return np.array(taus), np.array(weights)


def fixed_restarts(u, e, R, delta, taus_w):
    r_taus, r_w = taus_w
    taus, n, k = candidates(u, e, r_taus)
    alloc = np.zeros(len(taus))
    for t, w in zip(r_taus, r_w):
        alloc[np.searchsorted(taus, t)] += w
    return fallback(taus, n, k, alloc, R)


def fixed_sequence(u, e, R, delta, tau0):
    """Plain fixed sequence from a pre-set start tau0, all of delta, stop at the first failure."""
    taus, n, k = candidates(u, e, [tau0])
    alloc = np.zeros(len(taus))
    alloc[np.searchsorted(taus, tau0)] = delta
    return fallback(taus, n, k, alloc, R)
