"""The 80 % intervals of predicted need scores: calibrated on held-out models, and the ones the explanations show."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from advisor.ranking.predict import fit_predictor, interval80, predict
from advisor.store.links import Z80


def _models(rng, n: int, start: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Predictors as `predictors()` builds them and a need score on the line plus heavy-tailed noise (t, 2 df)."""
    idx = pd.Index([f"timm:m{i}" for i in range(start, start + n)], name="model_id")
    top1 = rng.normal(0.8, 0.4, n)
    sup = (rng.random(n) < 0.5).astype(float)
    x = pd.DataFrame({"probit_top1": top1, "paradigm_supervised": sup, "paradigm_ssl": 1 - sup}, index=idx)
    y = pd.Series(ndtr(-0.5 + 0.8 * top1 + 0.3 * sup + 0.25 * rng.standard_t(2, n)), index=idx)
    return x, y


def test_predicted_intervals_hold_80_percent_of_new_models():
    """Fitted on 200 models, the interval80 of the predictions holds ~80 % of 200 new models' scores. Mutant
    caught: a normal interval from the cross-validated rms (half-width Z80 * rmse_cv), which over-covers
    (about 0.89) where the residuals are heavy-tailed."""
    rng = np.random.default_rng(0)
    inside, normal = [], []
    for rep in range(15):
        x, y = _models(rng, 200)
        p = fit_predictor("calibration", x, y, seed=rep)
        assert p.on
        xn, yn = _models(rng, 200, start=1000)
        v, sd = predict(p, xn)
        lo, hi = interval80(v.to_numpy(), sd.to_numpy())
        t = yn.loc[v.index].to_numpy()
        inside.append(np.mean((t >= lo) & (t <= hi)))
        zz = ndtri(np.clip(v.to_numpy(), 1e-9, 1 - 1e-9))
        normal.append(np.mean((t >= ndtr(zz - Z80 * p.rmse_cv)) & (t <= ndtr(zz + Z80 * p.rmse_cv))))
    assert 0.77 <= np.mean(inside) <= 0.83, np.mean(inside)
    assert np.mean(normal) > 0.84, np.mean(normal)  # the mutant's coverage: outside the band


def test_interval80_gives_back_the_predictor_interval_exactly():
    """The engine carries a predicted score as (score, sd); `interval80` must turn that back into the
    predictor's own interval (prediction +/- half80 on the probit scale), which the benchmark checks."""
    rng = np.random.default_rng(3)
    x, y = _models(rng, 120)
    p = fit_predictor("calibration", x, y)
    v, sd = predict(p, x.iloc[:10])
    lo, hi = interval80(v.to_numpy(), sd.to_numpy())
    z = p.model.predict(x.iloc[:10][list(p.columns)].to_numpy())
    assert np.allclose(lo, ndtr(z - p.half80)) and np.allclose(hi, ndtr(z + p.half80))
    assert np.all(lo < v.to_numpy()) and np.all(v.to_numpy() < hi)
