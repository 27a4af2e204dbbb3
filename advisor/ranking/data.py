"""The ranking's input: model metadata plus need-tagged feature rows, prepared once per store."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from advisor.ranking.needs import NEEDS
from advisor.store.links import Z80, fit_links, to_link_scale
from advisor.store.measured import MEASURED_SOURCE, OPTIONAL_COLUMNS, check_measured
from advisor.store.properties import PROPERTIES
from advisor.store.protocols import assign_protocols

MEASURED_PROTOCOL = "measured-here"

MODEL_COLS = ["model_id", "display_name", "arch_type", "paradigm", "params_m", "gmacs", "img_size", "loader",
              "load_name", "pretrain_data", "weights_licence", "obtainable", "weights_from", "load_call"]

# Below this clean top-1 (%) a shifted/clean ratio is noise (an untrained net scores ~1.0): left out.
MIN_CLEAN_TOP1_FOR_RATIO = 25.0
FEATURE_COLS = ["model_id", "need", "property_id", "item", "source_id", "value", "hib", "non_commercial",
                "precision", "protocol", "relative"]
# Where a need's quantity is measured under several protocols, rows are mapped onto the reference protocol's
# scale (store.links); `t` is the value on that link scale, `lsd` the link's spread (the normal-equivalent sd of
# its 80 % interval), `link` says how and `link_note` why a protocol stays unlinked.
LINK_COLS = ["t", "lsd", "link", "qkey", "link_note"]


@dataclass(frozen=True)
class RankingData:
    models: pd.DataFrame  # one row per model (MODEL_COLS + throughput_cpu/gpu)
    features: pd.DataFrame  # FEATURE_COLS; value already relative where the need asks for it
    scores: pd.DataFrame  # raw long scores (for QUBA mode, Pareto and reports)
    quba: pd.DataFrame = field(default_factory=pd.DataFrame)  # QUBA's constants by need (store.quba_constants)

    @classmethod
    def from_frames(cls, models: pd.DataFrame, scores: pd.DataFrame,
                    non_commercial_sources: set[str] | frozenset[str] = frozenset(),
                    quba: pd.DataFrame | None = None) -> RankingData:
        """Prepare from a `models` table and long `scores` (model_id, property_id, item, value, source_id)."""
        scores = scores.copy()
        for col, default in (("item", ""), ("precision", "exact")):
            if col not in scores:
                scores[col] = default
        if "protocol" not in scores or scores["protocol"].isna().any():
            known = scores.get("protocol", None)
            paradigm = models.drop_duplicates("model_id").set_index("model_id")["paradigm"] \
                if "paradigm" in models else None
            scores["protocol"] = assign_protocols(scores, paradigm)["protocol"] if known is None else \
                known.fillna(assign_protocols(scores, paradigm)["protocol"])
        scores["non_commercial"] = scores["source_id"].isin(non_commercial_sources)
        models = models.copy()
        if "obtainable" not in models:  # frames without obtainability data (tests, old stores): do not filter
            models["obtainable"] = True
        for c in MODEL_COLS:
            if c not in models:
                models[c] = None
        models = models[MODEL_COLS].drop_duplicates("model_id").reset_index(drop=True)
        for prop in ("throughput_cpu", "throughput_gpu"):
            best = scores[scores["property_id"] == prop].groupby("model_id")["value"].max()
            models[prop] = models["model_id"].map(best)
        return cls(models, encode(link_features(build_features(scores)), models), scores,
                   pd.DataFrame() if quba is None else quba)

    @classmethod
    def from_store(cls, store) -> RankingData:  # store: advisor.store.store.PropertyStore
        return cls.from_frames(store.models(), store.score_rows(), store.non_commercial_sources(),
                               store.quba_constants())

    def with_extra_scores(self, extra: pd.DataFrame | None) -> RankingData:
        """Add scores measured here (probes, evaluations) without touching the store."""
        if extra is None or extra.empty:
            return self
        extra = check_measured(extra)
        extra["non_commercial"] = False
        extra["precision"] = extra["precision"].fillna("measured here")
        extra["protocol"] = MEASURED_PROTOCOL
        cols = list(self.scores.columns) + [c for c in OPTIONAL_COLUMNS if c not in self.scores.columns]
        scores = pd.concat([self.scores, extra.reindex(columns=cols)], ignore_index=True)
        return RankingData(self.models, encode(link_features(build_features(scores)), self.models), scores,
                           self.quba)

    def measured(self) -> pd.DataFrame:
        """The scores measured here (session data), with their intervals where the producer gave them."""
        s = self.scores
        return s[s["source_id"] == MEASURED_SOURCE].reset_index(drop=True)


def widest_source(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per `keys` (e.g. model and item) keep the row from the source that covers the most rows (ties: source id).

    The engine makes the same choice on its integer codes (`engine.need_evidence`), so a chart or table shows
    the value the ranking used.
    """
    if rows.empty:
        return rows
    cov = rows.groupby("source_id")["source_id"].transform("size")
    out = rows.assign(_cov=cov).sort_values(["_cov", "source_id"], ascending=[False, True], kind="stable")
    return out.drop_duplicates(keys).drop(columns="_cov")


def build_features(scores: pd.DataFrame) -> pd.DataFrame:
    """Expand scores into one row per (need, feature) they serve, with direction and relative values."""
    hib = {p.property_id: p.higher_is_better for p in PROPERTIES}
    clean = scores[(scores["property_id"] == "imagenet_top1") & (scores["item"] == "")]
    clean = clean[clean["value"] >= MIN_CLEAN_TOP1_FOR_RATIO].set_index(["model_id", "source_id"])["value"]
    clean = clean[~clean.index.duplicated()]
    frames = []
    for need in NEEDS:
        for f in need.features:
            rows = scores[scores["property_id"] == f.property_id]
            if rows.empty:
                continue
            rows = rows[rows["item"].map(f.keeps)]
            if rows.empty:
                continue
            rows = rows.assign(need=need.name, hib=hib[f.property_id] != f.flip, relative=f.relative_to_clean)
            if f.relative_to_clean:
                key = pd.MultiIndex.from_frame(rows[["model_id", "source_id"]])
                base = clean.reindex(key).to_numpy()
                rows = rows.assign(value=rows["value"].to_numpy() / base)
                rows = rows[np.isfinite(rows["value"])]
            frames.append(rows)
    if not frames:
        return pd.DataFrame(columns=FEATURE_COLS)
    return pd.concat(frames, ignore_index=True)[FEATURE_COLS]


def link_features(f: pd.DataFrame) -> pd.DataFrame:
    """Put each quantity (need, property, item) on one scale: rows of other protocols are mapped onto the
    reference protocol through `store.links.fit_links` (fitted on these rows, so relative values link as
    ratios); a protocol too thin to link keeps its own pool (`qkey` names the protocol then)."""
    f = f.reset_index(drop=True)
    t = np.asarray(f["value"], dtype=float).copy()
    for prop in f["property_id"].unique():
        m = (f["property_id"] == prop).to_numpy() & ~f["relative"].to_numpy(dtype=bool)
        t[m] = to_link_scale(t[m], prop)
    lsd = np.zeros(len(f))
    link = np.full(len(f), "", dtype=object)
    why = np.full(len(f), "", dtype=object)
    base = f["need"].astype(str) + "|" + f["property_id"] + "|" + f["item"]
    qkey = base.to_numpy(dtype=object).copy()
    multi = f.groupby(["need", "property_id", "item"], observed=True)["protocol"].transform("nunique") > 1
    for (_need, _rel), g in f[multi].groupby(["need", "relative"], observed=True):
        links = fit_links(g.assign(value=t[g.index]), probit=False, same_protocol=False)
        if links.empty:
            continue
        idx = pd.MultiIndex.from_frame(g[["property_id", "item", "protocol"]])
        lk = links.set_index(["property_id", "item", "protocol"])
        hit = lk.reindex(idx)
        pos = g.index.to_numpy()
        fitted = hit["method"].isin(["probit-affine", "affine"]).to_numpy()
        t[pos[fitted]] = hit["intercept"].to_numpy()[fitted] + hit["slope"].to_numpy()[fitted] * t[pos[fitted]]
        lsd[pos[fitted]] = hit["half80"].to_numpy()[fitted] / Z80
        link[pos[fitted]] = "linked"
        loose = (hit["method"] == "unlinked").to_numpy()
        link[pos[loose]] = "unlinked"
        why[pos[loose]] = hit["note"].to_numpy()[loose]
        qkey[pos[loose]] = qkey[pos[loose]] + "|" + g["protocol"].to_numpy()[loose]
        refs = set(zip(links["property_id"], links["item"], links["reference_protocol"], strict=True))
        is_ref = np.array([k in refs for k in zip(g["property_id"], g["item"], g["protocol"], strict=True)])
        link[pos[is_ref]] = "reference"
    return f.assign(t=t, lsd=lsd, link=link, qkey=qkey, link_note=why)


def encode(f: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    """Integer codes the engine works on: model position, normalisation group, item key, property."""
    pos = pd.Series(np.arange(len(models)), index=models["model_id"])
    f = f.assign(mi=f["model_id"].map(pos))
    f = f[f["mi"].notna()].reset_index(drop=True)
    f["mi"] = f["mi"].astype(np.int64)
    f["need"] = f["need"].astype("category")
    f["gi"] = f.groupby("qkey", sort=False).ngroup()  # one pool per quantity (and per unlinked protocol)
    f["si"] = f.groupby(["qkey", "source_id"], sort=False).ngroup()  # a source within it
    f["ki"] = f["gi"]
    f["pi"] = f.groupby(["need", "property_id"], observed=True, sort=False).ngroup()
    f["src_rank"] = f["source_id"].rank(method="dense").astype(np.int64)
    f["signed"] = np.where(f["hib"].astype(bool), f["t"], -f["t"])
    return f
