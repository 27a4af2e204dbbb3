"""Evidence-aware scoring: a need score from a small pool is shrunk toward the prior and says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advisor.ranking.data import RankingData
from advisor.ranking.engine import PRIOR, rank
from advisor.ranking.explain import explain_model
from advisor.ranking.request import RankRequest


def _synthetic() -> tuple[RankingData, str, str]:
    """Source 'big': 1,000 models with ECE 0.001..1.0; source 'small': 4 models, one far better than the rest,
    under a protocol of its own that shares no model with 'big' (so it cannot be linked: its own pool)."""
    rows = [(f"timm:big{i:04d}", "ece_15bin", "imagenet", (1000 - i) / 1000, "big") for i in range(1000)]
    rows += [("timm:tiny_best", "ece_15bin", "imagenet", 0.0001, "small")]
    rows += [(f"timm:tiny{i}", "ece_15bin", "imagenet", 0.9 + i / 100, "small") for i in range(3)]
    scores = pd.DataFrame(rows, columns=["model_id", "property_id", "item", "value", "source_id"])
    scores["protocol"] = np.where(scores["source_id"] == "big", "source-evaluation", "small-protocol")
    models = pd.DataFrame({"model_id": sorted(set(scores["model_id"]))})
    top5 = "timm:big0950"  # ranked 951st of 1,000 lower-is-better ECE: exactly at the top-5 % boundary
    return RankingData.from_frames(models, scores), "timm:tiny_best", top5


@pytest.mark.parametrize("method", ["percentile", "zscore"])
def test_best_of_four_does_not_outrank_the_top_5_percent_of_a_thousand(method):
    data, tiny, top5 = _synthetic()
    r = rank(data, RankRequest({"calibration": 1.0}, normalization=method, draws=0))
    order = r.table.set_index("model_id")["rank"]
    assert order[top5] < order[tiny]
    ns = r.need_scores["calibration"]
    assert ns[tiny] < 0.7  # shrunk: unshrunk it would be 0.875 (percentile) or ~0.96 (z-score)
    assert ns[top5] > 0.9 and abs(ns["timm:tiny0"] - PRIOR) < 0.2


def test_explanations_state_the_pool_not_a_bare_percentile():
    data, tiny, _ = _synthetic()
    r = rank(data, RankRequest({"calibration": 1.0}, draws=0, top_k=1000))
    tiny_row = r.contributions[(r.contributions["model_id"] == tiny)].iloc[0]
    assert tiny_row["pool"] == 4 and tiny_row["source_id"] == "small"
    ev = r.need_evidence().set_index("need").loc["calibration"]
    assert ev["n_models"] == 1004 and ev["sources"] == "big, small"
    best = r.table["model_id"].iloc[0]
    assert "of the 1,004 candidates with data (source: big)" in explain_model(r, best)


def test_thin_evidence_is_called_thin():
    rows = [(f"timm:m{i}", "ece_15bin", "imagenet", 0.01 * (i + 1), "study") for i in range(4)]
    scores = pd.DataFrame(rows, columns=["model_id", "property_id", "item", "value", "source_id"])
    data = RankingData.from_frames(pd.DataFrame({"model_id": sorted(set(scores["model_id"]))}), scores)
    r = rank(data, RankRequest({"calibration": 1.0}, draws=0))
    text = explain_model(r, "timm:m0")
    assert "best of the 4 candidates with data (source: study), thin evidence" in text and "top" not in text


def test_stability_draws_perturb_the_evidence():
    """Two models a hair apart: with evidence noise the leader is no longer first in every draw."""
    rows = [("timm:a", "ece_15bin", "x", 0.010, "s"), ("timm:b", "ece_15bin", "x", 0.011, "s")]
    rows += [(f"timm:z{i}", "ece_15bin", "x", 0.5 + i / 100, "s") for i in range(6)]
    scores = pd.DataFrame(rows, columns=["model_id", "property_id", "item", "value", "source_id"])
    data = RankingData.from_frames(pd.DataFrame({"model_id": sorted(set(scores["model_id"]))}), scores)
    r = rank(data, RankRequest({"calibration": 1.0}, draws=2000, seed=3))
    share = r.table.set_index("model_id")["top1_share"]
    assert 0.5 < share["timm:a"] < 0.95 and share["timm:b"] > 0.05  # weights alone could never move a 1-need pick
    assert np.isclose(share.sum(), 1.0)
