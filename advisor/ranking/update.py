"""Measured here, on the right scale: a figure measured on the user's images updates that model's need score.

Per need and measured property: the measured models' figures q (probit of the fraction for accuracies) are linked
to the published scale over the measured models themselves: the pool keeps its published mean (so no model gains
rank from being in a small measured pool) and a difference of q maps to b * q on the probit of the need score, b
fitted over the measured models when at least MIN_SHARED have a published score, else the inverse spread of the
need's published values. Only the part of a model's difference from the pool that lies beyond its 80 % interval
counts; the mapped figure and the published (or predicted) prior are combined by their precisions. Models not
measured keep their published score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from advisor.ranking.needs import get_need
from advisor.ranking.predict import Z80, to_probit
from advisor.store.links import MIN_SHARED, to_link_scale, uses_probit
from advisor.store.properties import get_property

Z95 = 1.959963984540054
TYPICAL_PROBIT_SPREAD = 0.5  # sd of probit accuracy across ImageNet models (60-95 % top-1), used when nothing fits


def measured_sd(rows: pd.DataFrame) -> np.ndarray:
    """Per row: the sd of the figure on its link scale, from its 95 % interval, else from the image count."""
    prop = rows["property_id"].iloc[0]
    v = rows["value"].to_numpy(dtype=float)
    lo = pd.to_numeric(rows.get("ci_low"), errors="coerce").to_numpy(dtype=float) if "ci_low" in rows else None
    hi = pd.to_numeric(rows.get("ci_high"), errors="coerce").to_numpy(dtype=float) if "ci_high" in rows else None
    sd = np.full(len(rows), np.nan)
    if lo is not None and hi is not None:
        sd = (to_link_scale(hi, prop) - to_link_scale(lo, prop)) / (2 * Z95)
    n = pd.to_numeric(rows["n_images"], errors="coerce").to_numpy(dtype=float) if "n_images" in rows else None
    if n is not None and uses_probit(prop):
        frac = v / 100.0 if get_property(prop).unit == "%" else v
        frac = np.clip(frac, 0.5 / np.maximum(n, 1), 1 - 0.5 / np.maximum(n, 1))
        binom = np.sqrt(frac * (1 - frac) / np.maximum(n, 1)) / np.maximum(
            np.exp(-0.5 * ndtri(frac) ** 2) / np.sqrt(2 * np.pi), 1e-6)
        sd = np.where(np.isfinite(sd), sd, binom)
    return sd


def apply_measured(measured: pd.DataFrame, scores: pd.DataFrame, sd: pd.DataFrame, status: pd.DataFrame,
                   source: pd.DataFrame, spread: dict[str, float]) -> tuple[list[str], list[str]]:
    """Update the candidates x needs frames in place with the measured rows; returns notes for the reader and
    the needs that measurements updated.

    spread: need -> sd of the need's published link-scale values (for b when too few measured models fit it).
    """
    notes: list[str] = []
    updated: list[str] = []
    if measured is None or measured.empty:
        return notes, updated
    m = measured[measured["model_id"].isin(scores.index)]
    for need in scores.columns:
        feats = get_need(need).features
        z_sum = pd.Series(0.0, index=scores.index)
        v_sum = pd.Series(0.0, index=scores.index)
        k_sum = pd.Series(0, index=scores.index)
        for f in feats:
            rows = m[(m["property_id"] == f.property_id) & m["item"].astype(str).map(f.keeps).astype(bool)]
            if rows.empty:
                continue
            prop = get_property(f.property_id)
            rows = rows.assign(q=to_link_scale(rows["value"].to_numpy(), f.property_id), sdq=measured_sd(rows))
            rows = rows[np.isfinite(rows["sdq"])]
            if rows.empty:
                notes.append(f"{prop.label}: no interval or image count, so it cannot be weighed (left out)")
                continue
            sign = 1.0 if prop.higher_is_better != f.flip else -1.0
            per = rows.groupby("model_id").agg(q=("q", "mean"), sdq=("sdq", "mean"))
            per["q"] *= sign
            ids = per.index
            has = status.loc[ids, need].ne("")
            z0 = pd.Series(to_probit(scores.loc[ids, need].fillna(0.5).to_numpy()), index=ids)
            dens = np.exp(-0.5 * z0 ** 2) / np.sqrt(2 * np.pi)
            v0 = np.where(has, (sd.loc[ids, need].to_numpy() / np.maximum(dens, 1e-6)) ** 2, 1.0)
            k = len(ids)
            if int(has.sum()) >= MIN_SHARED and per["q"].std() > 0:
                b = max(float(np.polyfit(per.loc[has[has].index, "q"], z0[has], 1)[0]), 0.0)
                how = f"fitted over {int(has.sum())} measured models"
            elif uses_probit(f.property_id):
                b = 1.0 / spread.get(need, TYPICAL_PROBIT_SPREAD)
                how = "inverse spread of the published values"
            else:
                notes.append(f"{prop.label}: {k} measured model(s), too few (fewer than {MIN_SHARED}) to put it "
                             "on the published scale (left out)")
                continue
            diff = per["q"] - per["q"].mean()
            sd_diff = per["sdq"] * np.sqrt(1 + 1 / k)
            beyond = np.sign(diff) * np.maximum(diff.abs() - Z80 * sd_diff, 0.0)
            zm = z0.mean() + b * beyond
            vm = (b * per["sdq"]) ** 2 + float(np.mean(v0)) / k
            counts = beyond.ne(0) | (k == 1)
            z_sum[ids] += np.where(counts, zm, z0)
            v_sum[ids] += np.where(counts, vm, np.inf)
            k_sum[ids] += 1
            moved = int(beyond.ne(0).sum())
            notes.append(f"{prop.label} for {k} model(s) ({need}): linked to the published scale "
                         f"by the {how}; {moved} differ beyond their 80 % interval and move")
        done = k_sum[k_sum > 0].index
        if len(done):
            updated.append(need)
        for mid in done:
            zm, vm = z_sum[mid] / k_sum[mid], v_sum[mid] / k_sum[mid]
            had = status.at[mid, need] != ""
            z0 = float(to_probit([scores.at[mid, need] if had else 0.5])[0])
            d0 = np.exp(-0.5 * z0 * z0) / np.sqrt(2 * np.pi)
            v0 = (sd.at[mid, need] / max(d0, 1e-6)) ** 2 if had else 1.0
            v0 = max(v0, 1e-6)
            if np.isfinite(vm):
                vp = 1.0 / (1.0 / v0 + 1.0 / vm)
                zp = vp * (z0 / v0 + zm / vm)
            else:
                vp, zp = v0, z0
            scores.at[mid, need] = float(ndtr(zp))
            sd.at[mid, need] = float(np.exp(-0.5 * zp * zp) / np.sqrt(2 * np.pi) * np.sqrt(vp))
            status.at[mid, need] = "measured"
            source.at[mid, need] = source.at[mid, need] or "measured_here"
    return notes, updated


def measured_table(measured: pd.DataFrame) -> pd.DataFrame:
    """The measured models side by side on the user's data, as their own table (not ranked among published
    figures): one row per model; per figure its value and 95 % interval ('<figure>', '<figure> low',
    '<figure> high'), and the most images any figure of the model rests on."""
    if measured is None or measured.empty:
        return pd.DataFrame(columns=["model_id"])
    m = measured.reindex(columns=[*measured.columns.union(["ci_low", "ci_high", "n_images"], sort=False)])
    names = [get_property(p).label + (f" [{i}]" if i else "") for p, i in zip(m["property_id"], m["item"],
                                                                              strict=True)]
    m = m.assign(figure=names)
    out = pd.DataFrame(index=pd.Index(sorted(m["model_id"].unique()), name="model_id"))
    for fig, g in m.groupby("figure", sort=True):
        g = g.drop_duplicates("model_id").set_index("model_id")
        for col, suffix in (("value", ""), ("ci_low", " low"), ("ci_high", " high")):
            out[fig + suffix] = pd.to_numeric(g[col], errors="coerce").reindex(out.index)
    out["images"] = pd.to_numeric(m["n_images"], errors="coerce").groupby(m["model_id"]).max().reindex(out.index)
    return out.reset_index()
