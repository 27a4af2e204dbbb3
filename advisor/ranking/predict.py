"""Prediction instead of the median: a need score for a model without data, from what is known of it.

Predictors: the model's ImageNet top-1 on the full val set (probit) and its training paradigm; target: the need
score (probit). A linear fit (scikit-learn) over the candidates that have both, in the spirit of "accuracy on the
line" (Miller et al., ICML 2021: accuracy under shift is close to linear in ImageNet accuracy in probit space,
with the training data setting the line). A need is predicted only when 5-fold cross-validation beats the median
(predicting 0.5 for everyone) and at least MIN_FIT models back the fit. Its 80 % interval is the prediction plus
or minus the split-conformal 80 % quantile of the absolute cross-validated residuals on the probit scale (Vovk et
al., "Algorithmic Learning in a Random World", 2005; Barber et al., Ann. Statist. 2021), not a normal interval
from the residual sd, which over-covers where the residuals are heavy-tailed.
`interval80` turns any need score and sd from the engine back into that interval, so what the explanations show
is what the benchmark (benchmarks/bench_evidence.py) checks on held-out models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold

from advisor.store.links import Z80, conformal_half80

MIN_FIT = 30  # models with both the need and the predictors
FOLDS = 5
CLIP = 0.005  # need scores are clipped to [CLIP, 1 - CLIP] before the probit
MIN_PARADIGM = 5  # a paradigm is predicted only if the fit saw at least this many of its models
NOT_PREDICTED = frozenset({"accuracy", "efficiency"})  # the predictor itself; model metadata


@dataclass(frozen=True)
class Predictor:
    """A fitted need predictor, or why there is none (`model` is None then)."""

    need: str
    n_fit: int
    rmse_cv: float  # cross-validated residual rms on the probit scale (decides on/off against the median)
    rmse_median: float  # the same for predicting the median (probit 0)
    model: Ridge | None
    columns: tuple[str, ...]
    reason: str
    seen: frozenset[str] = frozenset()  # paradigm columns with at least MIN_PARADIGM models in the fit
    half80: float = np.nan  # 80 % quantile of |cross-validated residual| (probit): the 80 % interval's half-width

    @property
    def on(self) -> bool:
        return self.model is not None


def predictors(scores: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    """model_id -> probit ImageNet top-1 (full val set, mean over sources) and paradigm dummies (NaN top-1: none)."""
    s = scores[(scores["property_id"] == "imagenet_top1") & (scores["item"] == "")]
    if "protocol" in s:
        s = s[s["protocol"] == "full"]
    top1 = s.groupby("model_id")["value"].mean()
    ids = models["model_id"]
    x = pd.DataFrame({"probit_top1": ndtri(np.clip(top1.reindex(ids).to_numpy() / 100.0, 0.001, 0.999))},
                     index=pd.Index(ids, name="model_id"))
    par = models.set_index("model_id")["paradigm"].reindex(ids).fillna("unknown").astype(str)
    dummies = pd.get_dummies(par, prefix="paradigm", dtype=float)
    return pd.concat([x, dummies], axis=1)


def to_probit(s: np.ndarray) -> np.ndarray:
    return ndtri(np.clip(np.asarray(s, dtype=float), CLIP, 1 - CLIP))


def fit_predictor(need: str, x: pd.DataFrame, y: pd.Series, seed: int = 0) -> Predictor:
    """Fit need score (probit) ~ predictors over the models with both; on only if CV beats the median."""
    cols = tuple(x.columns)
    if need in NOT_PREDICTED:
        return Predictor(need, 0, np.nan, np.nan, None, cols, "not predicted (it is the predictor, or metadata)")
    both = y.dropna().index.intersection(x.index[x["probit_top1"].notna()])
    n = len(both)
    if n < MIN_FIT:
        return Predictor(need, n, np.nan, np.nan, None, cols,
                         f"only {n} models have both this need and ImageNet top-1 (fewer than {MIN_FIT})")
    xs = x.loc[both].to_numpy()
    ys = to_probit(y.loc[both].to_numpy())
    res = np.empty(n)
    for tr, te in KFold(FOLDS, shuffle=True, random_state=seed).split(xs):
        res[te] = ys[te] - Ridge(alpha=1e-3).fit(xs[tr], ys[tr]).predict(xs[te])
    rmse_cv = float(np.sqrt(np.mean(res ** 2)))
    half80 = conformal_half80(np.abs(res))
    rmse_med = float(np.sqrt(np.mean(ys ** 2)))
    if not rmse_cv < rmse_med:
        return Predictor(need, n, rmse_cv, rmse_med, None, cols,
                         f"prediction does not beat the median on held-out models (rmse {rmse_cv:.2f} vs "
                         f"{rmse_med:.2f})")
    model = Ridge(alpha=1e-3).fit(xs, ys)
    par = x.loc[both].filter(like="paradigm_")
    seen = frozenset(c for c in par.columns if par[c].sum() >= MIN_PARADIGM)
    return Predictor(need, n, rmse_cv, rmse_med, model, cols,
                     f"predicted from ImageNet top-1 and paradigm ({n} models; held-out rmse {rmse_cv:.2f} vs "
                     f"{rmse_med:.2f} for the median, probit scale; 80 % interval +/-{half80:.2f})", seen, half80)


def predict(p: Predictor, x: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(score, sd) in [0, 1] for the rows of `x` with a top-1 and a paradigm the fit has seen (zero-shot accuracy is
    never predicted for a supervised model from CLIP models); the sd is the normal-equivalent sd of the 80 %
    interval mapped through the probit (`interval80` gives the interval back exactly)."""
    par = x.filter(like="paradigm_")
    known = par[sorted(set(par.columns) & p.seen)].sum(axis=1) > 0 if p.seen else pd.Series(False, index=x.index)
    ok = x.index[x["probit_top1"].notna() & known]
    if not p.on or len(ok) == 0:
        return pd.Series(dtype=float), pd.Series(dtype=float)
    z = p.model.predict(x.loc[ok, list(p.columns)].to_numpy())
    score = ndtr(z)
    sd = _density(z) * p.half80 / Z80
    return pd.Series(score, index=ok), pd.Series(sd, index=ok)


def _density(z: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * np.asarray(z, dtype=float) ** 2) / np.sqrt(2 * np.pi)


def interval80(score: np.ndarray | float, sd: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """The 80 % interval of a need score with sd `sd` (as the engine carries it): symmetric on the probit scale,
    so it stays inside [0, 1]; for a predicted score it is the prediction +/- the predictor's half80."""
    z = to_probit(np.asarray(score, dtype=float))
    half = Z80 * np.asarray(sd, dtype=float) / np.maximum(_density(z), 1e-12)
    return ndtr(z - half), ndtr(z + half)
