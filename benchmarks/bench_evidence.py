"""Does the evidence model predict what it has not seen? Held-out checks, side by side with today's method.

    python benchmarks/bench_evidence.py            # < 1 minute on 2 shared CPU cores

1. Leave-one-source-out per linked quantity: for every quantity measured under a second protocol with enough
   shared models (store.links), each shared model's value under that protocol is held out (10 folds), the link is
   fitted on the rest and the held-out value predicted from the model's reference value, with the link's 80 %
   interval. Today's method (per-source percentile) is shown beside it: the model's percentile in the reference
   source read off as the same percentile of the held-out source's other values.
2. Shift accuracy (accuracy on the line): per shifted test set, top-1 predicted from ImageNet top-1 and paradigm
   on held-out models (10 folds), with the 80 % interval of the cross-validated residuals.
3. 10-fold leave-models-out per need: the need score of held-out models predicted by `ranking.predict` (the
   product's own code) against the median that today's method assumes (0.5).

Printed per row: held-out values (n), Spearman of prediction vs truth, share inside the 80 % intervals, and the
mean absolute error of the prediction beside today's method.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri
from scipy.stats import spearmanr
from sklearn.model_selection import KFold

from advisor.ranking.data import RankingData
from advisor.ranking.engine import need_evidence
from advisor.ranking.needs import NEEDS
from advisor.ranking.predict import NOT_PREDICTED, Z80, fit_predictor, predict, predictors
from advisor.ranking.request import Limits, apply_limits
from advisor.store.links import MIN_SHARED, from_link_scale, to_link_scale
from advisor.store.store import open_store

FOLDS = 10


def _rho(a: np.ndarray, b: np.ndarray) -> float:
    return float(spearmanr(a, b).statistic) if len(a) > 2 and np.std(a) > 0 and np.std(b) > 0 else float("nan")


def _row(kind: str, name: str, truth, pred, lo, hi, base) -> dict:
    truth, pred, lo, hi, base = (np.asarray(x, dtype=float) for x in (truth, pred, lo, hi, base))
    return {"check": kind, "quantity": name, "n": len(truth), "spearman": _rho(pred, truth),
            "in_80": float(np.mean((truth >= lo) & (truth <= hi))) if len(truth) else float("nan"),
            "mae": float(np.mean(np.abs(pred - truth))), "mae_today": float(np.mean(np.abs(base - truth))),
            "spearman_today": _rho(base, truth)}


def leave_one_source_out(scores: pd.DataFrame, links: pd.DataFrame) -> list[dict]:
    rows = []
    fitted = links[links["method"].isin(["probit-affine", "affine"])]
    for r in fitted.itertuples(index=False):
        s = scores[(scores["property_id"] == r.property_id) & (scores["item"] == r.item)]
        ref = s[s["protocol"] == r.reference_protocol].groupby("model_id")["value"].mean()
        oth = s[s["protocol"] == r.protocol].groupby("model_id")["value"].mean()
        shared = ref.index.intersection(oth.index)
        if len(shared) < MIN_SHARED + 2:
            continue
        probit = r.method == "probit-affine"
        prop = r.property_id

        def tf(v, prop=prop, probit=probit):
            return to_link_scale(v, prop) if probit else np.asarray(v, dtype=float)

        def back(v, prop=prop, probit=probit):
            return from_link_scale(v, prop) if probit else v

        x, y = tf(ref.loc[shared].to_numpy()), tf(oth.loc[shared].to_numpy())
        truth, pred, lo, hi, base = (np.empty(len(shared)) for _ in range(5))
        folds = min(FOLDS, len(shared))
        for tr, te in KFold(folds, shuffle=True, random_state=0).split(x):
            # the held-out source's value from the reference: y ~ a + b x on the training models
            b, a = np.polyfit(x[tr], y[tr], 1)
            sd = np.sqrt(np.sum((y[tr] - a - b * x[tr]) ** 2) / max(len(tr) - 2, 1)) * np.sqrt(1 + 1 / len(tr))
            yh = a + b * x[te]
            truth[te] = back(y[te])
            pred[te], lo[te], hi[te] = back(yh), back(yh - Z80 * sd), back(yh + Z80 * sd)
            # today: the model's percentile in the reference, read off the other source's training values
            pct = (np.searchsorted(np.sort(x[tr]), x[te], side="left") + 0.5) / (len(tr) + 1)
            base[te] = back(np.quantile(y[tr], np.clip(pct, 0, 1)))
        item = f"/{r.item}" if r.item else ""
        rows.append(_row("leave-one-source-out", f"{r.property_id}{item} [{r.protocol}]", truth, pred, lo, hi,
                         base))
    return rows


def shift_on_the_line(scores: pd.DataFrame, models: pd.DataFrame) -> list[dict]:
    x_all = predictors(scores, models)
    shift = scores[(scores["property_id"] == "shift_top1") & (scores["protocol"] == "full")]
    rows, pooled = [], []
    for item, g in shift.groupby("item"):
        y = g.groupby("model_id")["value"].mean()
        ids = y.index.intersection(x_all.index[x_all["probit_top1"].notna()])
        if len(ids) < 30:
            continue
        xs, ys = x_all.loc[ids].to_numpy(), ndtri(np.clip(y.loc[ids].to_numpy() / 100, 1e-3, 1 - 1e-3))
        pred, sd = np.empty(len(ids)), np.empty(len(ids))
        for tr, te in KFold(FOLDS, shuffle=True, random_state=0).split(xs):
            coef, *_ = np.linalg.lstsq(np.c_[xs[tr], np.ones(len(tr))], ys[tr], rcond=None)
            res = ys[tr] - np.c_[xs[tr], np.ones(len(tr))] @ coef
            pred[te] = np.c_[xs[te], np.ones(len(te))] @ coef
            sd[te] = np.sqrt(np.mean(res ** 2))
        truth = 100 * ndtr(ys)
        base = np.full(len(ids), np.median(truth))  # today: no prediction, the median candidate
        r = _row("shift accuracy on the line", f"shift_top1/{item}", truth, 100 * ndtr(pred),
                 100 * ndtr(pred - Z80 * sd), 100 * ndtr(pred + Z80 * sd), base)
        rows.append(r)
        pooled.append(pd.DataFrame({"item": item, "truth": truth, "pred": 100 * ndtr(pred)}))
    if pooled:
        p = pd.concat(pooled)
        # the same model on several test sets: rank within each set, then pool (a pooled Spearman across sets
        # would mostly measure how hard each set is)
        rk = p.groupby("item")[["truth", "pred"]].rank(pct=True)
        rows.append({"check": "shift accuracy on the line", "quantity": "all shift sets (within-set ranks)",
                     "n": len(p), "spearman": _rho(rk["pred"].to_numpy(), rk["truth"].to_numpy()),
                     "in_80": float(np.average([r["in_80"] for r in rows], weights=[r["n"] for r in rows])),
                     "mae": float(np.mean(np.abs(p["pred"] - p["truth"]))), "mae_today": float("nan"),
                     "spearman_today": float("nan")})
    return rows


def per_need(data: RankingData) -> list[dict]:
    cand, _ = apply_limits(data.models, Limits())
    names = [n.name for n in NEEDS if n.name not in NOT_PREDICTED]
    ev = need_evidence(data, cand, names, Limits(), "percentile", predict=False)
    x = predictors(data.scores, cand)
    rows = []
    for need in names:
        y = ev.scores[need].dropna()
        ids = y.index.intersection(x.index[x["probit_top1"].notna()])
        if len(ids) < 2 * FOLDS:
            rows.append({"check": "leave-models-out per need", "quantity": need, "n": len(ids),
                         "spearman": float("nan"), "in_80": float("nan"), "mae": float("nan"),
                         "mae_today": float("nan"), "spearman_today": float("nan"),
                         "note": "too few models with data: not predicted"})
            continue
        truth = y.loc[ids]
        pred = pd.Series(np.nan, index=ids)
        lo, hi = pred.copy(), pred.copy()
        for tr, te in KFold(FOLDS, shuffle=True, random_state=0).split(ids):
            p = fit_predictor(need, x, truth.iloc[tr])
            v, _ = predict(p, x.loc[ids[te]])
            if len(v):
                z = ndtri(np.clip(v.to_numpy(), 1e-6, 1 - 1e-6))
                pred[v.index] = v
                lo[v.index] = ndtr(z - Z80 * p.rmse_cv)
                hi[v.index] = ndtr(z + Z80 * p.rmse_cv)
        ok = pred.notna()
        full = fit_predictor(need, x, truth)
        note = "prediction on" if full.on else f"prediction off: {full.reason}"
        if not ok.any():
            rows.append({"check": "leave-models-out per need", "quantity": need, "n": 0, "spearman": float("nan"),
                         "in_80": float("nan"), "mae": float("nan"), "mae_today": float("nan"),
                         "spearman_today": float("nan"), "note": note})
            continue
        r = _row("leave-models-out per need", need, truth[ok], pred[ok], lo[ok], hi[ok], np.full(int(ok.sum()), 0.5))
        r["note"] = note + ("; beats the median" if r["mae"] < r["mae_today"] else "; does NOT beat the median")
        rows.append(r)
    return rows


def main() -> None:
    t0 = time.perf_counter()
    store = open_store()
    data = RankingData.from_store(store)
    scores = store.score_rows()
    rows = leave_one_source_out(scores, store.links())
    rows += shift_on_the_line(scores, data.models)
    rows += per_need(data)
    df = pd.DataFrame(rows)
    if "note" not in df:
        df["note"] = ""
    df["note"] = df["note"].fillna("")
    with pd.option_context("display.width", 250, "display.max_rows", 500, "display.max_colwidth", 70):
        for check, g in df.groupby("check", sort=False):
            print(f"\n== {check} ==")
            print(g.drop(columns="check").to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    big = df[(df["n"] >= 30) & df["in_80"].notna()]
    print(f"\n80 % intervals over rows with n >= 30: median {big['in_80'].median():.3f}, "
          f"{int(big['in_80'].between(0.75, 0.85).sum())} of {len(big)} inside 0.75-0.85")
    print(f"done in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
