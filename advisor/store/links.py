"""Linking: one scale per quantity measured under several protocols, through the models they share.

For each (property, item) the protocol covering the most models is the reference. Every other protocol is mapped
onto it by an affine fit over the shared models: in probit space for accuracies and other fractions (accuracy on
one test set is close to linear in probit space in accuracy on another: Miller et al., "Accuracy on the Line",
ICML 2021), on the raw scale otherwise. The residual spread of the fit is the link's uncertainty. A protocol
sharing fewer than MIN_SHARED models with the reference stays unlinked (ranked in its own pool, and said so).
Sources under the same protocol compare on their raw values; their agreement is recorded as a link too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from advisor.store.properties import get_property

MIN_SHARED = 8
PROBIT_UNITS = ("%", "fraction")
EPS = 1e-3  # accuracies are clipped to [EPS, 1 - EPS] before the probit
LINK_COLUMNS = ["property_id", "item", "protocol", "source_id", "reference_protocol", "reference_source",
                "n_shared", "method", "slope", "intercept", "residual_sd", "max_abs_residual", "note"]


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


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """y ~ intercept + slope * x by least squares: (slope, intercept, residual sd, max |residual|)."""
    a = np.vstack([x, np.ones_like(x)]).T
    (slope, intercept), *_ = np.linalg.lstsq(a, y, rcond=None)
    res = y - (intercept + slope * x)
    sd = float(np.sqrt((res ** 2).sum() / max(len(x) - 2, 1)))
    return float(slope), float(intercept), sd, float(np.abs(res).max())


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
                             "residual_sd": np.nan, "max_abs_residual": np.nan,
                             "note": f"only {len(shared)} models shared with {ref} (fewer than {min_shared}): "
                                     "ranked in its own pool"})
                continue
            slope, icpt, sd, mx = _fit(x.loc[shared].to_numpy(), ref_vals.loc[shared].to_numpy())
            rows.append({**base, "method": method_fit, "slope": slope, "intercept": icpt, "residual_sd": sd,
                         "max_abs_residual": mx, "note": f"fitted over {len(shared)} shared models"})
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
                             "note": "raw values compared as they are (RMS and largest difference over shared "
                                     "models, raw units)"})
    return pd.DataFrame(rows, columns=LINK_COLUMNS)


def links_for_model(links: pd.DataFrame, scores: pd.DataFrame, model_id: str) -> pd.DataFrame:
    """The links behind one model's scores (for its model card): every link of a (property, item, protocol)
    the model has a score under."""
    mine = scores.loc[scores["model_id"] == model_id, ["property_id", "item", "protocol"]].drop_duplicates()
    cross = links[links["method"] != "same protocol"]
    return cross.merge(mine, on=["property_id", "item", "protocol"]).reset_index(drop=True)
