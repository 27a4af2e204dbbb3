"""Per-group normalisation of raw values into comparable [0, 1]-ish scores."""

from __future__ import annotations

import numpy as np
import pandas as pd

METHODS = ("percentile", "zscore")


def normalize(values: pd.Series, groups: pd.Series | list, higher_is_better: pd.Series,
              method: str = "percentile") -> pd.Series:
    """Normalise `values` within each group, higher = better after direction is applied.

    percentile: mid-rank percentile in (0, 1) (a lone model gets 0.5, ties share a rank);
    zscore: standard score mapped through the normal CDF to (0, 1) so it averages like a percentile.
    """
    signed = values.where(higher_is_better.astype(bool), -values)
    g = signed.groupby(groups, sort=False)
    if method == "percentile":
        n = g.transform("count")
        return (g.rank(method="average") - 0.5) / n
    if method == "zscore":
        mean = g.transform("mean")
        std = g.transform("std", ddof=0).replace(0.0, np.nan)
        z = ((signed - mean) / std).fillna(0.0).clip(-6, 6)
        return pd.Series(0.5 * (1.0 + _erf(z.to_numpy() / np.sqrt(2.0))), index=values.index)
    raise ValueError(f"unknown normalisation {method!r}; choose one of {METHODS}")


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7): avoids a scipy dependency."""
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
               + 0.254829592) * t * np.exp(-a * a)
    return s * y
