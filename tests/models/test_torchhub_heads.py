"""DINOv2 / DINO linear classifiers rebuilt from timm / torchvision, against a reference written from Meta's
code (dinov2/hub/classifiers.py `_LinearClassifierWrapper`, layers=4, and `DinoVisionTransformer.
interpolate_pos_encoding` / `get_intermediate_layers`), on random weights of the real shapes (ViT-S/14)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from advisor.models.loaded import load_model


def meta_pos_embed(model, w: int, h: int, offset: float, antialias: bool) -> torch.Tensor:
    """interpolate_pos_encoding of Meta's DinoVisionTransformer, on timm's table at the native 37x37 grid."""
    pos = model.pos_embed.float()
    prefix = 0 if model.no_embed_class else 1
    cls, patch = pos[:, :prefix], pos[:, prefix:]
    n = patch.shape[1]
    m = int(math.sqrt(n))
    w0, h0 = w // 14, h // 14
    kwargs = {"scale_factor": (float(w0 + offset) / m, float(h0 + offset) / m)} if offset else {"size": (w0, h0)}
    patch = F.interpolate(patch.reshape(1, m, m, -1).permute(0, 3, 1, 2), mode="bicubic", antialias=antialias,
                          **kwargs)
    return torch.cat((cls, patch.permute(0, 2, 3, 1).view(1, -1, pos.shape[-1])), dim=1)


def meta_linear4(model, head: torch.nn.Linear, x: torch.Tensor, registers: bool) -> torch.Tensor:
    """Meta's wrapper with layers=4: cat(class token of the last 4 blocks, mean patch token of the last), each
    after the final norm; registers sit after the class token and are not patch tokens."""
    pos = meta_pos_embed(model, x.shape[-1], x.shape[-2], 0.0 if registers else 0.1, registers)
    t = model.patch_embed.norm(model.patch_embed.proj(x).flatten(2).transpose(1, 2))  # Meta's PatchEmbed
    cls = model.cls_token.expand(t.shape[0], -1, -1)
    # timm's register models: position added to the patches, the class token already holds its own
    t = torch.cat((cls, t + pos), dim=1) if model.no_embed_class else torch.cat((cls, t), dim=1) + pos
    if registers:
        t = torch.cat((t[:, :1], model.reg_token.expand(t.shape[0], -1, -1), t[:, 1:]), dim=1)
    outs = []
    for i, blk in enumerate(model.blocks):
        t = blk(t)
        if i >= len(model.blocks) - 4:
            outs.append(model.norm(t))
    n_reg = model.reg_token.shape[1] if registers else 0
    feats = torch.cat([o[:, 0] for o in outs] + [outs[-1][:, 1 + n_reg:].mean(dim=1)], dim=1)
    return head(feats)


@pytest.mark.parametrize("model_id, timm_name, registers", [
    ("quba:ViT-s-14-dinoV2-LP", "vit_small_patch14_dinov2", False),
    ("quba:ViT-s-14-dinov2-reg-LP", "vit_small_patch14_reg4_dinov2", True),
])
def test_dinov2_head_equals_metas_linear4_classifier(model_id, timm_name, registers, tmp_path, images01):
    """Mutants caught: the cls token of the last block only ('linear' instead of 'linear4'); patch tokens
    averaged with the registers; timm's antialiased resampling for the plain models (offset 0.1 in Meta's)."""
    import timm

    torch.manual_seed(0)
    native = timm.create_model(timm_name, pretrained=False, num_classes=0).eval()  # 518 px, 37x37 grid
    with torch.no_grad():
        native.pos_embed.normal_(0, 0.5)  # a table whose resampling matters
    head = torch.nn.Linear(5 * native.embed_dim, 1000)
    state = {**{f"backbone.{k}": v for k, v in native.state_dict().items()},
             **{f"linear_head.{k}": v for k, v in head.state_dict().items()}}
    path = tmp_path / "dinov2_lc.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    model = load_model(model_id, path)
    assert model.model_id == model_id and model.backend == "torchhub"
    assert model.view.input_size == (224, 224) and model.view.interpolation == "bicubic"
    x = images01()
    logits, emb = model.forward(x)
    with torch.inference_mode():
        want = meta_linear4(native, head.eval(), (x - torch.tensor(model.view.mean).view(1, 3, 1, 1))
                            / torch.tensor(model.view.std).view(1, 3, 1, 1), registers)
    assert emb.shape == (2, 5 * native.embed_dim)
    assert torch.allclose(logits, want, atol=1e-4, rtol=1e-4), (logits - want).abs().max()


def test_dino_resnet50_linear_is_the_hub_backbone_with_eval_linears_classifier(tmp_path, images01):
    import torchvision

    torch.manual_seed(0)
    backbone = torchvision.models.resnet50(weights=None).eval()
    backbone.fc = torch.nn.Identity()  # DINO's hub entry
    linear = torch.nn.Linear(2048, 1000).eval()  # eval_linear's LinearClassifier on the flattened features
    state = {**{f"backbone.{k}": v for k, v in backbone.state_dict().items()},
             **{f"linear.{k}": v for k, v in linear.state_dict().items()}}
    path = tmp_path / "dino.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    model = load_model("quba:ResNet50-DINO-LP", path)
    x = images01()
    with torch.inference_mode():
        xn = (x - torch.tensor(model.view.mean).view(1, 3, 1, 1)) / torch.tensor(model.view.std).view(1, 3, 1, 1)
        want = linear(backbone(xn).view(2, -1))
    got = model.forward(x)[0]
    # channels-last convolutions sum in another order: agreement to float32 rounding of the ~1e2 activations
    assert torch.allclose(got, want, atol=1e-4 * want.abs().max().item(), rtol=1e-4), (got - want).abs().max()


def test_dinov2_head_urls_follow_metas_naming():
    from advisor.models.backends.torchhub import entry

    assert entry("dinov2_vitl14_reg_lc").files[0].url == \
        "https://dl.fbaipublicfiles.com/dinov2/dinov2_vitl14/dinov2_vitl14_reg4_linear4_head.pth"
    assert entry("dinov2_vitb14_lc").files[0].url == \
        "https://dl.fbaipublicfiles.com/dinov2/dinov2_vitb14/dinov2_vitb14_linear4_head.pth"
    assert entry("dinov2_vitb14_lc").timm_name == "vit_base_patch14_dinov2.lvd142m"
