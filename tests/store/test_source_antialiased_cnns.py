from __future__ import annotations

import pandas as pd

from advisor.store.build import DEFAULT_SOURCES


def test_every_row_becomes_a_scored_model(ingest):
    out = ingest("antialiased_cnns")
    raw = pd.read_csv(DEFAULT_SOURCES / "antialiased_cnns" / "imagenet_accuracy_consistency.csv")
    scores = pd.DataFrame(out.scores)
    cons = scores[scores["property_id"] == "shift_consistency"]
    assert len(cons) == len(raw) == 46
    r50 = cons.set_index("model_id")["value"]
    assert r50["timm:resnet50.tv_in1k"] == 89.20  # torchvision V1 weights = timm's tv_in1k
    assert r50["antialiased:resnet50_lpf4"] == 91.32
    assert r50["torchvision:alexnet.IMAGENET1K_V1"] == 78.18  # no tv_in1k tag in timm
    assert out.sources["antialiased_cnns"].non_commercial


def test_antialiased_weights_come_from_the_pip_package(ingest):
    from advisor.store.obtain import loader_call

    out = ingest("antialiased_cnns")
    lpf4 = {m["model_id"] for m in out.models if m["model_id"].startswith("antialiased:")}
    assert len(lpf4) == 23
    assert loader_call("antialiased:vgg16_bn_lpf4")[:2] == (
        "pip", "antialiased_cnns.vgg16_bn(pretrained=True, filter_size=4)")
    assert loader_call("antialiased:resnet50_lpf2")[1] == "antialiased_cnns.resnet50(pretrained=True, filter_size=2)"
    assert loader_call("antialiased:resnet50") is None  # no filter size: no call is guessed
