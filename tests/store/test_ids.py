from __future__ import annotations

import pandas as pd
import pytest

from advisor.ids import bare_name, load_name_of, namespace_of, split_load_name
from advisor.store.build import DEFAULT_SOURCES


def test_every_published_timm_and_open_clip_name_round_trips():
    timm = pd.read_csv(DEFAULT_SOURCES / "timm" / "results-imagenet.csv")["model"]
    for name in timm:
        arch, tag = split_load_name(name)
        assert f"{arch}.{tag}" == name and "." not in arch and tag
    oc = pd.read_csv(DEFAULT_SOURCES / "open_clip" / "openclip_results.csv")
    for arch, pretrained in zip(oc["name"], oc["pretrained"], strict=True):
        assert load_name_of(f"open_clip:{arch}.{pretrained}") == ("open_clip", arch, pretrained)


def test_split_on_the_first_dot():
    assert split_load_name("vit_base_patch16_224.augreg2_in21k_ft_in1k") == ("vit_base_patch16_224",
                                                                              "augreg2_in21k_ft_in1k")
    assert split_load_name("ViT-B-32.v1.5") == ("ViT-B-32", "v1.5")  # a dotted tag stays whole
    assert split_load_name("resnet50") == ("resnet50", "")
    assert bare_name("timm:resnet50.a1_in1k") == "resnet50.a1_in1k" and namespace_of("quba:X") == "quba"
    with pytest.raises(ValueError):
        load_name_of("nonsense:x.y")
