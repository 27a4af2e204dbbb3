"""Store models named by their source (QUBA's names) whose weights route leads to a backend id.

The store keeps QUBA's identifiers for models no library names (`quba:ViT-b-14-dinoV2-LP`); their route
(`models.weights_from` / `load_call` / `weights_url`) is a torch.hub classifier or a release file, which a
backend builds under its own id. This table says which, so `load_model("quba:ViT-b-14-dinoV2-LP")` works and
results keep the store's id; tests/models/test_routes.py checks every row against the store's own route
(entry name, file URL, checksum) and that every obtainable store model has a backend or a stated reason.
"""

from __future__ import annotations

ROUTES: dict[str, str] = {
    "quba:EfficientNet-b0-A1": "release:tf_efficientnet_b0_a1_0-9188dd46",
    "quba:EfficientNet-b0-A2": "release:tf_efficientnet_b0_a2_0-48bede62",
    "quba:EfficientNet-b0-A3": "release:tf_efficientnet_b0_a3_0-94e799dc",
    "quba:EfficientNet-b1-A1": "release:tf_efficientnet_b1_a1_0-b55e845c",
    "quba:EfficientNet-b1-A2": "release:tf_efficientnet_b1_a2_0-d342a7bf",
    "quba:EfficientNet-b1-A3": "release:tf_efficientnet_b1_a3_0-ee9f9669",
    "quba:EfficientNet-b2-A1": "release:tf_efficientnet_b2_a1_0-f1382665",
    "quba:EfficientNet-b2-A2": "release:tf_efficientnet_b2_a2_0-ae4f4996",
    "quba:EfficientNet-b2-A3": "release:tf_efficientnet_b2_a3_0-61f0f688",
    "quba:EfficientNet-b3-A1": "release:tf_efficientnet_b3_a1_0-efc81b92",
    "quba:EfficientNet-b3-A2": "release:tf_efficientnet_b3_a2_0-e183dbec",
    "quba:EfficientNet-b3-A3": "release:tf_efficientnet_b3_a3_0-0a50fa9a",
    "quba:EfficientNet-b4-A1": "release:tf_efficientnet_b4_a1_0-182bef54",
    "quba:EfficientNet-b4-A2": "release:tf_efficientnet_b4_a2_0-bc5f172e",
    "quba:EfficientNet-b4-A3": "release:tf_efficientnet_b4_a3_0-a6a8179a",
    "quba:EfficientNetv2-M-A1": "release:efficientnetv2_rw_m_a1_0-b788290c",
    "quba:EfficientNetv2-M-A2": "release:efficientnetv2_rw_m_a2_0-12297cd3",
    "quba:EfficientNetv2-M-A3": "release:efficientnetv2_rw_m_a3_0-68b15d26",
    "quba:EfficientNetv2-S-A1": "release:efficientnetv2_rw_s_a1_0-59d76611",
    "quba:EfficientNetv2-S-A2": "release:efficientnetv2_rw_s_a2_0-cafb8f99",
    "quba:EfficientNetv2-S-A3": "release:efficientnetv2_rw_s_a3_0-11105c48",
    "quba:RegNety-040-A1": "release:regnety_040_a1_0-453380cb",
    "quba:RegNety-040-A2": "release:regnety_040_a2_0-acda0189",
    "quba:RegNety-040-A3": "release:regnety_040_a3_0-9705a0d6",
    "quba:RegNety-080-A1": "release:regnety_080_a1_0-7d647454",
    "quba:RegNety-080-A2": "release:regnety_080_a2_0-2298ae4e",
    "quba:RegNety-080-A3": "release:regnety_080_a3_0-2fb073a0",
    "quba:RegNety-160-A1": "release:regnety_160_a1_0-ed74711e",
    "quba:RegNety-160-A2": "release:regnety_160_a2_0-6631355e",
    "quba:RegNety-160-A3": "release:regnety_160_a3_0-9ee45d21",
    "quba:RegNety-320-A1": "release:regnety_320_a1_0-6c920aed",
    "quba:RegNety-320-A2": "release:regnety_320_a2_0-a9fedcbf",
    "quba:RegNety-320-A3": "release:regnety_320_a3_0-242d2987",
    "quba:ResNet50-DINO-LP": "torchhub:dino_resnet50_lc",
    "quba:SeNet154-A1": "release:gluon_senet154_a1_0-ef9d383e",
    "quba:SeNet154-A2": "release:gluon_senet154_a2_0-63cb3b08",
    "quba:SeNet154-A3": "release:gluon_senet154_a3_0-d8df0fde",
    "quba:ViT-b-14-dinoV2-LP": "torchhub:dinov2_vitb14_lc",
    "quba:ViT-b-14-dinov2-reg-LP": "torchhub:dinov2_vitb14_reg_lc",
    "quba:ViT-l-14-dinoV2-LP": "torchhub:dinov2_vitl14_lc",
    "quba:ViT-l-14-dinov2-reg-LP": "torchhub:dinov2_vitl14_reg_lc",
    "quba:ViT-s-14-dinoV2-LP": "torchhub:dinov2_vits14_lc",
    "quba:ViT-s-14-dinov2-reg-LP": "torchhub:dinov2_vits14_reg_lc",
}
