"""Per-group normalisation of raw values into comparable [0, 1]-ish scores."""

from __future__ import annotations

import numpy as np
import pandas as pd

METHODS = ("percentile", "zscore")


def normalize(signed: np.ndarray, groups: np.ndarray, method: str = "percentile") -> np.ndarray:
    """Normalise direction-applied values within each group (integer codes); higher = better.

    percentile: mid-rank percentile in (0, 1) (a lone model gets 0.5, ties share a rank);
    zscore: standard score mapped through the normal CDF to (0, 1) so it averages like a percentile.
    """
    v = pd.Series(signed)
    g = v.groupby(groups, sort=False)
    if method == "percentile":
        return ((g.rank(method="average") - 0.5) / g.transform("count")).to_numpy()
    if method == "zscore":
        std = g.transform("std", ddof=0).replace(0.0, np.nan)
        z = ((v - g.transform("mean")) / std).fillna(0.0).clip(-6, 6).to_numpy()
        return 0.5 * (1.0 + _erf(z / np.sqrt(2.0)))
    raise ValueError(f"unknown normalisation {method!r}; choose one of {METHODS}")


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7): avoids a scipy dependency."""
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
               + 0.254829592) * t * np.exp(-a * a)
    return s * y
