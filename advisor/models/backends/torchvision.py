"""The torchvision backend: `torchvision:<builder>.<WEIGHTS_MEMBER>` ids (torchvision's weights enums).

The architecture is torchvision's own builder, called with the arguments it sets itself when given those
weights (class count, ViT / MaxViT input size, GoogLeNet / Inception input transform and aux heads), and
the weights file is read as tensors only (torchvision's own `get_state_dict` would unpickle anything). The
eval view is the enum's `transforms()`; the class names are its `meta['categories']`. Files are the enum's
URL, kept where torchvision keeps them ($TORCH_HOME/hub/checkpoints) and checked against the sha256 prefix
in their name. torchvision and torch are imported inside the methods.
"""

from __future__ import annotations

from typing import Any

from advisor.errors import AdvisorError, UnknownNameError, WeightsUnavailableError
from advisor.ids import split_load_name, suggest
from advisor.models.checkpoints import load_error
from advisor.models.interface import Built, HubFiles, ModelSpec, Progress, UrlFile, WeightsSource, spec_id
from advisor.models.locations import file_cache_hint
from advisor.models.nets import FeatureTap, cached_url_file, load_file_into, torch_hub_dir, view
from advisor.models.transfer import sha256_in_name

TORCHVISION_LICENCE = "bsd-3-clause"  # torchvision's own licence, where the enum states none


def _weights(spec: ModelSpec) -> Any:
    import torchvision.models as tvm

    return tvm.get_model_weights(spec.arch)[spec.tag]


def builder_kwargs(builder: str, weights: Any) -> dict[str, Any]:
    """The keyword arguments torchvision's builder sets itself when it is given `weights`
    (`_ovewrite_named_param` in torchvision/models/*.py), so the network built without them is the same."""
    kw: dict[str, Any] = {"num_classes": len(weights.meta["categories"])}
    if builder.startswith("vit_"):
        kw["image_size"] = weights.meta["min_size"][0]
    elif builder == "maxvit_t":
        kw["input_size"] = weights.meta["min_size"]
    elif builder in ("googlenet", "inception_v3"):
        kw.update(transform_input=True, aux_logits=True, init_weights=False)
    return kw


def build_module(builder: str, weights: Any) -> Any:
    """torchvision's network for `weights` as its file holds it (GoogLeNet / Inception with aux heads), with
    no weights loaded (and no download)."""
    import torchvision.models as tvm

    return tvm.get_model(builder, weights=None, **builder_kwargs(builder, weights))


def drop_aux(builder: str, model: Any) -> Any:
    """What the builder does after loading: GoogLeNet / Inception-v3 run without their auxiliary heads."""
    if builder == "googlenet":
        model.aux_logits, model.aux1, model.aux2 = False, None, None
    elif builder == "inception_v3":
        model.aux_logits, model.AuxLogits = False, None
    return model


def weights_view(weights: Any):
    """The enum's eval transform as a view (resize the shorter side, centre crop)."""
    t = weights.transforms()
    crop, resize = int(t.crop_size[0]), int(t.resize_size[0])
    return view(crop, crop / resize, t.interpolation.value, tuple(t.mean), tuple(t.std))


def url_file(weights: Any) -> UrlFile:
    url = weights.url
    name = url.rsplit("/", 1)[-1]
    lic = weights.meta.get("license") or TORCHVISION_LICENCE
    return UrlFile(url, name, sha256_in_name(name), lic)


def _tap_forward(built: Built, x: Any) -> tuple[Any, Any]:
    return built.head.run(built.module, x)


class TorchvisionBackend:
    """torchvision classification weights (the ones timm does not re-publish as `*.tv_in1k`)."""

    name = "torchvision"

    def parse(self, name: str) -> ModelSpec:
        """`builder.WEIGHTS` against torchvision's classification builders and their weights enums."""
        import torchvision.models as tvm

        builder, member = split_load_name(name)
        builders = tvm.list_models(module=tvm)
        if builder not in builders:
            raise UnknownNameError("torchvision model", f"torchvision:{name}",
                                   suggest(builder, builders))
        members = list(tvm.get_model_weights(builder).__members__)
        if member not in members:
            raise UnknownNameError("torchvision weights", f"torchvision:{name}",
                                   [f"torchvision:{builder}.{m}" for m in members])
        return ModelSpec(spec_id(self.name, builder, member), self.name, builder, member, False)

    def url_files(self, spec: ModelSpec) -> tuple[UrlFile, ...]:
        """The weights files at URLs, with their published checksum and licence."""
        return (url_file(_weights(spec)),)

    def find(self, spec: ModelSpec) -> WeightsSource | None:
        """torchvision's own download folder ($TORCH_HOME/hub/checkpoints)."""
        f = url_file(_weights(spec))
        path = cached_url_file(f)
        return WeightsSource("url-cache", f"torch-hub-cache:{f.filename}", path) if path else None

    def build(self, spec: ModelSpec, src: WeightsSource, templates: str = "",
              progress: Progress | None = None) -> Built:
        """The network with the weights from `src` (tensors only, strict), its eval view and class names."""
        weights = _weights(spec)
        try:
            model = build_module(spec.arch, weights)
            if src.origin != "random":
                load_file_into(model, src.path or "", "state_dict", "model")
            drop_aux(spec.arch, model)
        except AdvisorError:
            raise
        except Exception as e:
            raise load_error(spec, src, e) from None
        model.eval().requires_grad_(False)
        return Built(model, weights_view(weights), tuple(weights.meta["categories"]), FeatureTap(model))

    def outputs(self, built: Built, x: Any) -> tuple[Any, Any]:
        """Logits, and the input of the final classifier layer as the embedding (one pass)."""
        return _tap_forward(built, x)

    def how_to_get(self, spec: ModelSpec) -> str:
        """Where the weights come from and how to fetch them (with consent, or by hand)."""
        fetch = (f"python -c \"import torchvision; torchvision.models.get_model('{spec.arch}', "
                 f"weights='{spec.tag}')\"")
        return file_cache_hint(spec, fetch, torch_hub_dir())

    def hub_files(self, spec: ModelSpec) -> HubFiles:
        """Not on the Hugging Face hub: WeightsUnavailableError (the files are at URLs)."""
        raise WeightsUnavailableError(f"{spec.model_id}: torchvision publishes these weights at a URL "
                                      f"({_weights(spec).url}), not on the Hugging Face hub.")


BACKEND = TorchvisionBackend()
