"""Tests named after the one-line breaks ("mutants") they catch (issue 17, item 6; issue 18)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from advisor.ranking.data import RankingData
from advisor.ranking.engine import MODES, SHRINK, rank
from advisor.ranking.request import MODES as REQUEST_MODES
from advisor.ranking.request import Limits, RankRequest, mode_uses_weights


def _data(values: dict[str, float], obtainable: dict[str, bool] | None = None) -> RankingData:
    scores = pd.DataFrame({"model_id": list(values), "property_id": "imagenet_top1", "item": "",
                           "value": list(values.values()), "source_id": "s"})
    models = pd.DataFrame({"model_id": list(values)})
    if obtainable is not None:
        models["obtainable"] = models["model_id"].map(obtainable)
    return RankingData.from_frames(models, scores)


def test_only_obtainable_models_are_ranked_by_default():
    """Mutant: skip the 'include' (obtainability) limit in apply_limits -> the unobtainable best model is ranked
    first by default and this test fails."""
    data = _data({"timm:a": 80.0, "timm:b": 70.0, "timm:secret": 95.0},
                 {"timm:a": True, "timm:b": True, "timm:secret": False})
    r = rank(data, RankRequest({"accuracy": 1.0}, draws=0))
    assert r.table["model_id"].tolist() == ["timm:a", "timm:b"]
    assert any("without public weights" in n for n in r.notes)
    both = rank(data, RankRequest({"accuracy": 1.0}, draws=0, limits=Limits(include_unobtainable=True)))
    assert both.table["model_id"].iloc[0] == "timm:secret"


def test_zscore_normalisation_is_the_normal_cdf_of_the_standard_score():
    """Mutant: force 'percentile' in the engine whatever the request says -> the outlier's neighbours get evenly
    spaced scores instead of Phi(z), and this test fails (so does the reverse: force 'zscore')."""
    vals = {f"timm:m{i}": v for i, v in enumerate([50.0, 51.0, 52.0, 53.0, 90.0])}
    data = _data(vals)
    t = data.features.set_index("model_id")["t"]  # the engine's link scale: probit of top-1 for accuracies
    z = (t - t.mean()) / t.std(ddof=0)
    n = len(vals)
    want_z = (n * pd.Series(norm.cdf(z), index=z.index) + SHRINK * 0.5) / (n + SHRINK)
    pct = (t.rank() - 0.5) / n
    want_p = (n * pct + SHRINK * 0.5) / (n + SHRINK)
    got_z = rank(data, RankRequest({"accuracy": 1.0}, draws=0, normalization="zscore")).need_scores["accuracy"]
    got_p = rank(data, RankRequest({"accuracy": 1.0}, draws=0, normalization="percentile")).need_scores["accuracy"]
    assert np.allclose(got_z.loc[want_z.index], want_z, atol=1e-6)
    assert np.allclose(got_p.loc[want_p.index], want_p, atol=1e-9)
    assert not np.allclose(want_z, want_p, atol=1e-3)  # the data tell the two apart


def test_every_mode_has_a_rank_function_and_a_weights_rule():
    """Mutant: add a mode name to request.MODES without a rank function (or the reverse) -> fails."""
    assert set(MODES) == set(REQUEST_MODES)
    assert mode_uses_weights("advisor") and not mode_uses_weights("quba")


def test_a_linked_protocol_is_mapped_onto_the_reference():
    """Mutant: leave linked rows on their own scale (skip the link map in data.link_features) -> the subset
    protocol's model, 2 points lower on the reference scale, would tie or lead and this test fails."""
    rng = np.random.default_rng(1)
    ref = {f"timm:r{i}": float(v) for i, v in enumerate(rng.uniform(60, 85, 20))}
    rows = [(m, "imagenet_top1", "", v, "full_src", "full") for m, v in ref.items()]
    # the subset reads every model 5 points higher; 10 shared models fix that link
    rows += [(m, "imagenet_top1", "", v + 5.0, "rb", "robustbench-5000") for m, v in list(ref.items())[:10]]
    rows += [("timm:only_rb", "imagenet_top1", "", max(ref.values()) + 3.0, "rb", "robustbench-5000")]
    df = pd.DataFrame(rows, columns=["model_id", "property_id", "item", "value", "source_id", "protocol"])
    data = RankingData.from_frames(pd.DataFrame({"model_id": sorted(set(df["model_id"]))}), df)
    r = rank(data, RankRequest({"accuracy": 1.0}, draws=0))
    order = r.table["model_id"].tolist()
    best_ref = max(ref, key=ref.get)
    assert order.index(best_ref) < order.index("timm:only_rb")  # 2 points below the best once mapped
    assert set(data.features.loc[data.features["source_id"] == "rb", "link"]) == {"linked"}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_modes_are_reached_through_the_table(mode, small):
    """Mutant: route a mode to the other mode's function -> QUBA mode without QUBA constants would rank (or the
    advisor mode would need them) and this test fails."""
    req = RankRequest({"accuracy": 1.0}, draws=0, mode=mode)
    if mode == "quba":
        with pytest.raises(Exception, match="QUBA"):
            rank(small, req)
    else:
        assert len(rank(small, req).table) == 4
