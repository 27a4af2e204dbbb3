"""Linking: one scale per quantity measured under several protocols, through the models they share.

For each (property, item) the protocol covering the most models is the reference. Every other protocol is mapped
onto it by an affine fit over the shared models: in probit space for accuracies and other fractions (accuracy on
one test set is close to linear in probit space in accuracy on another: Miller et al., "Accuracy on the Line",
ICML 2021), on the raw scale otherwise. The link's uncertainty is its 80 % interval: the split-conformal 80 %
quantile of the leave-one-out residuals over the shared models (`conformal_half80`; a jackknife prediction
interval, Barber et al., "Predictive inference with the jackknife+", Ann. Statist. 2021), so a link whose
residuals are heavy-tailed is not given a normal interval that over-covers. A protocol sharing fewer than
MIN_SHARED models with the reference, or whose leave-one-out predictions rank the shared models poorly
(Spearman below MIN_SPEARMAN), stays unlinked (ranked in its own pool, and said so). Sources under the same
protocol compare on their raw values; their agreement is recorded as a link too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri
from scipy.stats import spearmanr

from advisor.store.properties import get_property

MIN_SHARED = 8
MIN_SPEARMAN = 0.5  # a link whose held-out (leave-one-out) predictions rank the shared models worse stays unlinked
Q80 = 0.8  # the interval's coverage
Z80 = 1.2815515655446004  # half-width of a central 80 % normal interval, in sd
PROBIT_UNITS = ("%", "fraction")
EPS = 1e-3  # accuracies are clipped to [EPS, 1 - EPS] before the probit
LINK_COLUMNS = ["property_id", "item", "protocol", "source_id", "reference_protocol", "reference_source",
                "n_shared", "method", "slope", "intercept", "residual_sd", "max_abs_residual", "half80",
                "heldout_spearman", "note"]


def uses_probit(property_id: str) -> bool:
    try:
        return get_property(property_id).unit in PROBIT_UNITS
    except KeyError:
        return False


def to_link_scale(values: np.ndarray, property_id: str) -> np.ndarray:
    """Values on the scale links are fitted on: probit of the fraction for accuracies, else unchanged."""
    v = np.asarray(values, dtype=float)
    if not uses_probit(property_id):
        return v
    unit = get_property(property_id).unit
    frac = v / 100.0 if unit == "%" else v
    return ndtri(np.clip(frac, EPS, 1 - EPS))


def from_link_scale(values: np.ndarray, property_id: str) -> np.ndarray:
    """Inverse of `to_link_scale`."""
    v = np.asarray(values, dtype=float)
    if not uses_probit(property_id):
        return v
    frac = ndtr(v)
    return frac * 100.0 if get_property(property_id).unit == "%" else frac


@dataclass(frozen=True)
class LinkFit:
    """y ~ intercept + slope * x by least squares over the shared models, with its held-out quality."""

    slope: float
    intercept: float
    residual_sd: float  # in-sample residual sd (n - 2 degrees of freedom)
    max_abs_residual: float
    half80: float  # 80 % quantile of |leave-one-out residual|: the half-width of the link's 80 % interval
    heldout_spearman: float  # Spearman of the leave-one-out predictions vs the values (NaN: undefined)

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(value, 80 % low, 80 % high) on the link scale for values `x` under the linked protocol."""
        y = self.intercept + self.slope * np.asarray(x, dtype=float)
        return y, y - self.half80, y + self.half80


def conformal_half80(abs_residuals: np.ndarray) -> float:
    """Half-width of an 80 % interval from n held-out absolute residuals: their order statistic at rank
    0.8 (n + 1), interpolated (numpy's "weibull" quantile). A new exchangeable residual falls below the k-th
    smallest of n with probability k / (n + 1) (the rank argument of split-conformal prediction), so this
    interval covers 80 % in expectation; the conformal ceil(0.8 (n + 1)) would guarantee at least 80 % and
    over-cover by up to 1 / (n + 1)."""
    r = np.asarray(abs_residuals, dtype=float)
    if len(r) == 0:
        return float("nan")
    return float(np.quantile(r, Q80, method="weibull"))


def fit_link(x: np.ndarray, y: np.ndarray) -> LinkFit:
    """Fit y (reference) ~ x (linked protocol); the interval from the leave-one-out residuals (closed form:
    e_i / (1 - h_ii) for least squares), so it is calibrated on models the fit did not see."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    a = np.vstack([x, np.ones_like(x)]).T
    (slope, intercept), *_ = np.linalg.lstsq(a, y, rcond=None)
    res = y - (intercept + slope * x)
    n = len(x)
    sd = float(np.sqrt((res ** 2).sum() / max(n - 2, 1)))
    sxx = float(((x - x.mean()) ** 2).sum())
    h = 1.0 / n + ((x - x.mean()) ** 2 / sxx if sxx > 0 else 0.0)
    loo = res / np.maximum(1.0 - h, 1e-9)
    half = conformal_half80(np.abs(loo))
    pred_loo = y - loo
    rho = float(spearmanr(pred_loo, y).statistic) if n > 2 and np.std(pred_loo) > 0 and np.std(y) > 0 \
        else float("nan")
    return LinkFit(float(slope), float(intercept), sd, float(np.abs(res).max()) if n else float("nan"), half, rho)


def fit_links(scores: pd.DataFrame, min_shared: int = MIN_SHARED, probit: bool | None = None,
              same_protocol: bool = True) -> pd.DataFrame:
    """Every link: per (property, item, protocol) onto the reference protocol, and per source within a protocol
    onto the protocol's widest source. Columns LINK_COLUMNS; slope/intercept map onto the reference's link scale.
    `probit` overrides the property's own choice of scale (False: values are already on their link scale);
    `same_protocol=False` skips the comparisons of sources within one protocol.
    """
    rows: list[dict] = []
    s = scores[["model_id", "property_id", "item", "protocol", "source_id", "value"]]
    multi_p = s.groupby(["property_id", "item"])["protocol"].transform("nunique") > 1
    multi_s = s.groupby(["property_id", "item", "protocol"])["source_id"].transform("nunique") > 1
    if not same_protocol:
        multi_s = multi_s & False
    for (prop, item), g in s[multi_p | multi_s].groupby(["property_id", "item"], sort=True):
        g = g.assign(t=to_link_scale(g["value"].to_numpy(), prop) if probit is not False else g["value"])
        per = g.groupby(["protocol", "model_id"])["t"].mean()
        n_by = per.groupby(level=0).size().sort_index()
        ref = n_by.sort_values(ascending=False, kind="stable").index[0]
        ref_vals = per.loc[ref]
        method_fit = "probit-affine" if uses_probit(prop) and probit is not False else "affine"
        for proto in n_by.index:
            if proto == ref:
                continue
            x = per.loc[proto]
            shared = x.index.intersection(ref_vals.index)
            base = {"property_id": prop, "item": item, "protocol": proto, "source_id": "",
                    "reference_protocol": ref, "reference_source": "", "n_shared": len(shared)}
            if len(shared) < min_shared:
                rows.append({**base, "method": "unlinked", "slope": np.nan, "intercept": np.nan,
                             "residual_sd": np.nan, "max_abs_residual": np.nan, "half80": np.nan,
                             "heldout_spearman": np.nan,
                             "note": f"only {len(shared)} models shared with {ref} (fewer than {min_shared}): "
                                     "ranked in its own pool"})
                continue
            fit = fit_link(x.loc[shared].to_numpy(), ref_vals.loc[shared].to_numpy())
            vals = {"slope": fit.slope, "intercept": fit.intercept, "residual_sd": fit.residual_sd,
                    "max_abs_residual": fit.max_abs_residual, "half80": fit.half80,
                    "heldout_spearman": fit.heldout_spearman}
            if not fit.heldout_spearman >= MIN_SPEARMAN:
                rows.append({**base, **vals, "method": "unlinked",
                             "note": f"weak link: over {len(shared)} shared models the held-out (leave-one-out) "
                                     f"Spearman is {fit.heldout_spearman:.2f} (below {MIN_SPEARMAN}) and the 80 % "
                                     f"interval +/-{fit.half80:.2f} on the link scale (slope {fit.slope:.2f}): "
                                     "ranked in its own pool"})
                continue
            rows.append({**base, **vals, "method": method_fit,
                         "note": f"fitted over {len(shared)} shared models; held-out Spearman "
                                 f"{fit.heldout_spearman:.2f}, 80 % interval +/-{fit.half80:.2f} on the link scale"})
        for proto, gp in g.groupby("protocol") if same_protocol else ():
            srcs = gp.groupby("source_id")["model_id"].nunique().sort_values(ascending=False, kind="stable")
            if len(srcs) < 2:
                continue
            widest = srcs.index[0]
            ref_v = gp[gp["source_id"] == widest].set_index("model_id")["value"]
            for src in srcs.index[1:]:
                v = gp[gp["source_id"] == src].set_index("model_id")["value"]
                shared = v.index.intersection(ref_v.index)
                diff = (v.loc[shared] - ref_v.loc[shared]).to_numpy()
                rows.append({"property_id": prop, "item": item, "protocol": proto, "source_id": src,
                             "reference_protocol": proto, "reference_source": widest, "n_shared": len(shared),
                             "method": "same protocol", "slope": 1.0, "intercept": 0.0,
                             "residual_sd": float(np.sqrt((diff ** 2).mean())) if len(diff) else np.nan,
                             "max_abs_residual": float(np.abs(diff).max()) if len(diff) else np.nan,
                             "half80": conformal_half80(np.abs(diff)),
                             "heldout_spearman": np.nan,
                             "note": "raw values compared as they are (RMS and largest difference over shared "
                                     "models, raw units)"})
    return pd.DataFrame(rows, columns=LINK_COLUMNS)


def links_for_model(links: pd.DataFrame, scores: pd.DataFrame, model_id: str) -> pd.DataFrame:
    """The links behind one model's scores (for its model card): every link of a (property, item, protocol)
    the model has a score under."""
    mine = scores.loc[scores["model_id"] == model_id, ["property_id", "item", "protocol"]].drop_duplicates()
    cross = links[links["method"] != "same protocol"]
    return cross.merge(mine, on=["property_id", "item", "protocol"]).reset_index(drop=True)
