"""AdUE training primitives for the issue-13 statistics studies (PyTorch CPU).

The head, its dropout placement and the OneCycle schedule are those of bench/fit_torch.py
(itself a faithful copy of src/fit); here lambda, dropout and the loop shape are parameters,
and every epoch's scores can be recorded, which the selection study needs.

U = clamp(scale * (1 - logsumexp(lam * softmax(g(h))) / lam), eps, 1 - eps), scale 1;
loss = BCE(U, e) [optionally class-weighted] + alpha * mean((U - U_SR)^2)
       + beta * sum ||theta - theta0||^2.
"""
import copy
import math
import pathlib
import sys

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from scipy.stats import rankdata

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from fit_torch import Head, one_cycle  # noqa: E402

EPS = 1e-7
CASES = {
    "bbc-bert-linear": ROOT / "fixtures/bbc-bert-linear",
    "bbc-roberta": ROOT / "fixtures/bbc-roberta",
    "bbc-minilm-score": ROOT / "fixtures/bbc-minilm-score",
    "tiny-electra-gelu": ROOT / "tests/data/tiny-electra-gelu",
    "tiny-llama-576": ROOT / "tests/data/tiny-llama-576",
}


def auc(u, e):
    """Mann-Whitney error ROC-AUC, ties 1/2 (CONTRACT §5)."""
    u, e = np.asarray(u, dtype=np.float64), np.asarray(e) > 0.5
    n1 = e.sum()
    n0 = len(e) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(u)
    return float((r[e].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def load_split(path):
    """(features f32, e f32, U_SR f32, labels) of one split file."""
    t = load_file(str(path))
    x, y, z = t["features"].float(), t["labels"].long(), t["logits"].float()
    p = torch.softmax(z.double(), dim=-1)
    e = (z.argmax(dim=1) != y).float()
    return x, e, (1.0 - p.max(dim=1).values).float(), y


def load_head(path, dropout):
    h = Head(str(path))
    h.drop.p = dropout
    return h


def uncertainty(logits, lam):
    p = torch.softmax(logits, dim=-1)
    return torch.clamp(1.0 - torch.logsumexp(lam * p, dim=-1) / lam, EPS, 1.0 - EPS)


def scores(head, x, lam):
    head.eval()
    with torch.no_grad():
        return uncertainty(head(x), lam).double().numpy()


def loss_fn(head, anchors, x, e, usr, alpha, beta, lam, pos_weight):
    u = uncertainty(head(x), lam)
    w = None if pos_weight is None else torch.where(e > 0.5, pos_weight, 1.0)
    bce = F.binary_cross_entropy(u, e, weight=w)
    if w is not None:
        bce = bce * len(e) / w.sum()
    reg = sum(((p - a) ** 2).sum() for p, a in zip(head.parameters(), anchors))
    return bce + alpha * ((u - usr) ** 2).mean() + beta * reg


def train_full_batch(head0, x, e, usr, alpha, beta, lr, steps, lam, seed, pos_weight=None):
    """The issue's fixed-config reference: full-batch Adam, constant lr, `steps` steps."""
    torch.manual_seed(seed)
    head = copy.deepcopy(head0)
    anchors = [p.detach().clone() for p in head.parameters()]
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    head.train()
    for _ in range(steps):
        loss = loss_fn(head, anchors, x, e, usr, alpha, beta, lam, pos_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return head


def train_epochs(head0, x, e, usr, alpha, beta, lr, epochs, lam, seed, evals, batch=128,
                 pos_weight=None, oversample=False):
    """The src/fit loop (mini-batches of 128, OneCycle over `epochs`), no early stopping:
    returns the per-epoch scores on each eval set [(x, ...)] and the per-epoch state dicts.
    `oversample`: each epoch draws the errors with replacement until they match the correct
    rows (error-balanced sampling) instead of a permutation."""
    torch.manual_seed(seed)
    head = copy.deepcopy(head0)
    params = list(head.parameters())
    anchors = [p.detach().clone() for p in params]
    opt = torch.optim.Adam(params, lr=lr)
    n = len(x) if not oversample else 2 * int((e < 0.5).sum())
    steps = math.ceil(n / batch)
    sched = one_cycle(opt, lr, epochs * steps)
    err_idx, ok_idx = torch.nonzero(e > 0.5).flatten(), torch.nonzero(e < 0.5).flatten()
    per_epoch, states = [], []
    for _ in range(epochs):
        head.train()
        if oversample:
            pick = err_idx[torch.randint(len(err_idx), (len(ok_idx),))]
            idx_all = torch.cat([ok_idx, pick])[torch.randperm(n)]
        else:
            idx_all = torch.randperm(n)
        for b in range(steps):
            idx = idx_all[b * batch:(b + 1) * batch]
            loss = loss_fn(head, anchors, x[idx], e[idx], usr[idx], alpha, beta, lam, pos_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        per_epoch.append([scores(head, xe, lam) for xe in evals])
        states.append(copy.deepcopy(head.state_dict()))
    return per_epoch, states


def stratified_folds(strata, k, seed):
    """Fold index per row: rows of each stratum shuffled (seeded) and dealt round-robin."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(strata), dtype=np.int64)
    offset = 0
    for s in np.unique(strata):
        idx = np.nonzero(strata == s)[0]
        rng.shuffle(idx)
        fold[idx] = (np.arange(len(idx)) + offset) % k
        offset += len(idx)
    return fold


def train_full_batch_curve(head0, x, e, usr, alpha, beta, lr, steps, lam, seed, x_eval, every):
    """Full-batch Adam like `train_full_batch`, scoring `x_eval` every `every` steps."""
    torch.manual_seed(seed)
    head = copy.deepcopy(head0)
    anchors = [p.detach().clone() for p in head.parameters()]
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    out = []
    for step in range(1, steps + 1):
        head.train()
        loss = loss_fn(head, anchors, x, e, usr, alpha, beta, lam, None)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % every == 0:
            out.append(scores(head, x_eval, lam))
    return out
