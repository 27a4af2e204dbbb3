from __future__ import annotations

import numpy as np
import pytest

from advisor.errors import InvalidRequestError, UnknownNameError
from advisor.ranking.engine import Limits, RankRequest, rank
from advisor.ranking.explain import explain_model, head_to_head
from advisor.ranking.needs import list_needs
from advisor.ranking.pareto import pareto_front


def order(r):
    return r.table["model_id"].tolist()


def test_direction_lower_ece_is_better(small):
    r = rank(small, RankRequest({"calibration": 1.0}, draws=0))
    assert order(r)[:3] == ["timm:c", "timm:b", "timm:a"]


def test_direction_higher_accuracy_is_better_within_source(small):
    r = rank(small, RankRequest({"accuracy": 1.0}, limits=Limits(only_model_ids=("timm:a", "timm:b", "timm:c"))))
    assert order(r) == ["timm:a", "timm:b", "timm:c"]


def test_sources_under_one_protocol_rank_on_raw_values(small):
    """timm:d's 99 % comes from another source measuring the same test set: it ranks first on its raw value
    (being alone in a source no longer makes it the median)."""
    r = rank(small, RankRequest({"accuracy": 1.0}, draws=0))
    assert order(r) == ["timm:d", "timm:a", "timm:b", "timm:c"]


def test_an_unlinked_protocol_is_ranked_in_its_own_pool(make_data):
    """A protocol sharing too few models with the reference cannot be put on its scale: its best model is the
    best of its own small pool, shrunk toward the median, and the link says why."""
    import pandas as pd

    rows = [(f"timm:r{i}", "imagenet_c_top1", "", 40.0 + i, "big") for i in range(30)]
    rows += [("timm:x", "imagenet_c_top1", "", 99.0, "rb"), ("timm:y", "imagenet_c_top1", "", 10.0, "rb")]
    df = pd.DataFrame(rows, columns=["model_id", "property_id", "item", "value", "source_id"])
    df["protocol"] = ["full"] * 30 + ["robustbench-5000"] * 2
    from advisor.ranking.data import RankingData

    data = RankingData.from_frames(pd.DataFrame({"model_id": sorted(set(df["model_id"]))}), df)
    assert set(data.features.loc[data.features["source_id"] == "rb", "link"]) == {"unlinked"}
    r = rank(data, RankRequest({"corruption": 1.0}, draws=0))
    x = r.need_scores["corruption"]
    assert x["timm:x"] < x["timm:r29"]  # best of 2 unlinked is weaker evidence than best of 30


def test_missing_data_does_not_win(make_data):
    rows = [(f"timm:full{i}", "imagenet_top1", "", 80 + i, "s") for i in range(5)]
    rows += [(f"timm:full{i}", "ece_15bin", "x", 0.05 - 0.005 * i, "s") for i in range(5)]
    rows += [(f"timm:full{i}", "shape_bias", "", 0.3 + 0.01 * i, "s") for i in range(5)]
    rows += [("timm:thin", "imagenet_top1", "", 99.0, "s")]  # best accuracy, nothing else
    data = make_data(rows)
    r = rank(data, RankRequest({"accuracy": 1, "calibration": 1, "shape_bias": 1}, draws=0))
    t = r.table.set_index("model_id")
    assert order(r)[0] == "timm:full4"
    assert t.loc["timm:thin", "coverage"] == pytest.approx(1 / 3)
    assert t.loc["timm:thin", "score_covered"] > t.loc["timm:full4", "score_covered"]  # renormalised alone
    assert t.loc["timm:thin", "score"] < t.loc["timm:full4", "score"]
    r2 = rank(data, RankRequest({"accuracy": 1, "calibration": 1, "shape_bias": 1}, min_coverage=0.9, draws=0))
    assert "timm:thin" not in order(r2)


def test_contributions_sum_to_score(small):
    r = rank(small, RankRequest({"accuracy": 2.0, "calibration": 1.0}))
    s = r.contributions.groupby("model_id")["contribution"].sum()
    t = r.table.set_index("model_id")["score"]
    assert np.allclose(s.loc[t.index], t)


def test_limits_that_exclude_everything(small):
    with pytest.raises(InvalidRequestError, match="no model passes"):
        rank(small, RankRequest({"accuracy": 1.0}, limits=Limits(max_params_m=1)))


def test_limits_filter(small):
    r = rank(small, RankRequest({"accuracy": 1.0}, limits=Limits(max_params_m=15, paradigms=("supervised",))))
    assert set(order(r)) == {"timm:c", "timm:d"}


def test_unknown_need_suggests(small):
    with pytest.raises(UnknownNameError) as e:
        rank(small, RankRequest({"calibraton": 1.0}))
    assert "calibration" in e.value.suggestions


@pytest.mark.parametrize("weights", [{"accuracy": 0.0}, {"accuracy": 0.0, "calibration": 0.0},
                                     {"accuracy": -1.0}, {"accuracy": float("nan")}])
def test_zero_or_negative_weights(small, weights):
    with pytest.raises(InvalidRequestError):
        rank(small, RankRequest(weights))


def test_contradictory_needs(small):
    with pytest.raises(InvalidRequestError, match="opposite"):
        rank(small, RankRequest({"shape_bias": 1.0, "texture_bias": 1.0}))


def test_ties_are_deterministic_and_share_rank(make_data):
    rows = [("timm:z", "imagenet_top1", "", 80.0, "s"), ("timm:y", "imagenet_top1", "", 80.0, "s"),
            ("timm:x", "imagenet_top1", "", 70.0, "s")]
    r = rank(make_data(rows), RankRequest({"accuracy": 1.0}))
    assert order(r) == ["timm:y", "timm:z", "timm:x"]
    assert r.table["rank"].tolist() == [1, 1, 3]


def test_stability_deterministic_with_seed(small):
    req = RankRequest({"accuracy": 1.0, "calibration": 1.0}, seed=7)
    a, b = rank(small, req), rank(small, req)
    assert a.table["top1_share"].tolist() == b.table["top1_share"].tolist()
    assert a.table["top1_share"].sum() == pytest.approx(1.0)
    assert (a.table["topk_share"] >= a.table["top1_share"]).all()


def test_stability_flags_a_knife_edge_pick(make_data):
    # two models trade places as the weights move: neither should be called stable
    rows = [("timm:p", "imagenet_top1", "", 90, "s"), ("timm:q", "imagenet_top1", "", 80, "s"),
            ("timm:p", "ece_15bin", "x", 0.09, "s"), ("timm:q", "ece_15bin", "x", 0.01, "s")]
    r = rank(make_data(rows), RankRequest({"accuracy": 1.0, "calibration": 1.0}, concentration=5))
    assert not r.table["stable"].iloc[0]
    r2 = rank(make_data(rows), RankRequest({"accuracy": 10.0, "calibration": 0.1}))
    assert r2.table["stable"].iloc[0]


def test_zscore_option_orders_like_percentile_for_monotone_data(small):
    ids = ("timm:a", "timm:b", "timm:c")
    r = rank(small, RankRequest({"accuracy": 1.0}, normalization="zscore", limits=Limits(only_model_ids=ids)))
    assert order(r) == ["timm:a", "timm:b", "timm:c"]


def test_exclude_non_commercial_drops_that_data(make_data):
    rows = [("timm:a", "imagenet_x_error_ratio", "pose", 1.0, "nc"), ("timm:b", "imagenet_x_error_ratio", "pose",
                                                                        2.0, "nc"),
            ("timm:a", "imagenet_top1", "", 70, "ok"), ("timm:b", "imagenet_top1", "", 80, "ok")]
    data = make_data(rows, nc={"nc"})
    r = rank(data, RankRequest({"mistakes": 1.0, "accuracy": 0.1}))
    assert order(r)[0] == "timm:a"
    r2 = rank(data, RankRequest({"mistakes": 1.0, "accuracy": 0.1}, limits=Limits(exclude_non_commercial=True)))
    assert order(r2)[0] == "timm:b"
    assert r2.table["coverage"].max() == pytest.approx(0.1 / 1.1)


def test_explanations_mention_strengths_and_missing(small):
    r = rank(small, RankRequest({"accuracy": 1.0, "calibration": 3.0}))
    text = explain_model(r, r.table["model_id"].iloc[0])
    assert "calibrated confidences" in text and "weighted most" in text
    d = explain_model(r, "timm:d")
    assert "no data for calibrated confidences" in d
    txt, diff = head_to_head(r, "timm:c", "timm:a")
    assert txt.startswith("timm:c leads timm:a") and "calibrated" in txt
    assert diff["difference"].iloc[0] > 0


def test_every_need_can_be_ranked_alone(make_data):
    # one synthetic score per property each need uses: every need yields a ranking
    for need in list_needs():
        f = need.features[0]
        item = f.items[0] if f.items else "x"
        from advisor.store.properties import get_property

        lo, hi = (0.1, 0.2) if get_property(f.property_id).unit == "fraction" else (1.0, 2.0)
        rows = [("timm:m1", f.property_id, item, lo, "s"), ("timm:m2", f.property_id, item, hi, "s")]
        if f.relative_to_clean:
            rows += [("timm:m1", "imagenet_top1", "", 50.0, "s"), ("timm:m2", "imagenet_top1", "", 50.0, "s")]
        r = rank(make_data(rows), RankRequest({need.name: 1.0}, draws=10))
        assert len(r.table) == 2, need.name
        # m2 has the larger raw value: it must lead exactly when the need reads the property upward
        upward = get_property(f.property_id).higher_is_better != f.flip
        assert r.table["model_id"].iloc[0] == ("timm:m2" if upward else "timm:m1"), need.name


def test_pareto_front(make_data):
    rows = [("timm:a", "imagenet_top1", "", 80, "s"), ("timm:a", "params_m", "", 10, "s"),
            ("timm:b", "imagenet_top1", "", 85, "s"), ("timm:b", "params_m", "", 50, "s"),
            ("timm:c", "imagenet_top1", "", 79, "s"), ("timm:c", "params_m", "", 60, "s")]
    df = pareto_front(make_data(rows), ("imagenet_top1", ""), ("params_m", ""))
    front = set(df.loc[df["on_front"], "model_id"])
    assert front == {"timm:a", "timm:b"}


def test_effective_robustness_ignores_near_chance_models(make_data):
    # an untrained net keeps "100 %" of its 0.1 % accuracy: that ratio must not count as robustness
    rows = [("timm:good", "imagenet_top1", "", 80.0, "s"), ("timm:good", "shift_top1", "imagenet-r", 60.0, "s"),
            ("timm:ok", "imagenet_top1", "", 80.0, "s"), ("timm:ok", "shift_top1", "imagenet-r", 40.0, "s"),
            ("timm:untrained", "imagenet_top1", "", 0.1, "s"), ("timm:untrained", "shift_top1", "imagenet-r", 0.1, "s")]
    r = rank(make_data(rows), RankRequest({"natural_shift": 1.0}, draws=0))
    assert "timm:untrained" not in r.table["model_id"].tolist()
    assert r.table["model_id"].iloc[0] == "timm:good"


def test_sources_used_names_the_sources_behind_each_need(small):
    r = rank(small, RankRequest({"accuracy": 1.0, "calibration": 1.0}, draws=0))
    assert set(r.sources_used) == {("src1", "accuracy"), ("src2", "accuracy"), ("src1", "calibration")}


def test_measured_here_scores_join_the_invariance_need(small):
    import pandas as pd

    from advisor.store.measured import MEASURED_SOURCE

    extra = pd.DataFrame({"model_id": ["timm:a", "timm:b"], "property_id": "measured_invariance",
                          "item": "scale", "value": [0.2, 0.9], "source_id": MEASURED_SOURCE,
                          "n_images": 500})
    r = rank(small.with_extra_scores(extra), RankRequest({"invariance": 1.0}, draws=0))
    assert r.table["model_id"].tolist()[:2] == ["timm:b", "timm:a"]
    assert (MEASURED_SOURCE, "invariance") in r.sources_used
