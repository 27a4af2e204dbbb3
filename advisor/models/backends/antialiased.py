"""The antialiased-cnns backend: `antialiased:<arch>_lpf<N>` ids (Zhang 2019, BlurPool CNNs; pip package
`antialiased-cnns`, the `antialiased` extra).

The network is the package's own constructor (`antialiased_cnns.<arch>(filter_size=N)`, no weights); the
weights are the file the package's `model_urls` names for the same call with `pretrained=True` (filter size 4:
the fine-tuned `_lpf4_finetune` file), read as tensors only and loaded strictly, with the package's own key
fix for DenseNet. The file's sha256 prefix is in its name (torch.hub's convention), checked on download.
Evaluation view: the package's (torchvision's ImageNet recipe: resize 256, centre crop 224, bilinear).
"""

from __future__ import annotations

import re
from typing import Any

from advisor.errors import AdvisorError, UnknownNameError, WeightsUnavailableError
from advisor.ids import suggest
from advisor.models.checkpoints import load_error
from advisor.models.interface import Built, HubFiles, ModelSpec, Progress, UrlFile, WeightsSource
from advisor.models.locations import file_cache_hint
from advisor.models.nets import (
    FeatureTap,
    cached_url_file,
    imagenet_class_names,
    torch_hub_dir,
    unwrap,
    view,
)
from advisor.models.transfer import sha256_in_name

LICENCE = "cc-by-nc-sa-4.0"  # the package's module headers
_ID = re.compile(r"([a-z0-9_]+?)_lpf([2-5])")
# torchvision's old DenseNet keys ('norm.1') as the package renames them before loading.
_DENSE_KEY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\."
                        r"((?:[12])\.(?:weight|bias|running_mean|running_var))$")


def model_urls() -> dict[str, str]:
    """The package's weights table (every module's `model_urls`)."""
    try:  # each module's table (the package's top level re-exports the constructors under the same names)
        from antialiased_cnns.alexnet import model_urls as alexnet
        from antialiased_cnns.densenet import model_urls as densenet
        from antialiased_cnns.mobilenet import model_urls as mobilenet
        from antialiased_cnns.resnet import model_urls as resnet
        from antialiased_cnns.vgg import model_urls as vgg
    except ImportError:
        raise WeightsUnavailableError("antialiased-cnns models need the package: pip install "
                                      "'vision-advisor[antialiased]' (or pip install antialiased-cnns)") from None
    return {**alexnet, **densenet, **mobilenet, **resnet, **vgg}


def weights_key(arch: str, filter_size: int) -> str:
    """The package's own rule for `pretrained=True`: filter size 4 loads the fine-tuned file."""
    return f"{arch}_lpf4_finetune" if filter_size == 4 else f"{arch}_lpf{filter_size}"


def _filter_size(spec: ModelSpec) -> int:
    return int(spec.tag.removeprefix("lpf"))


def _url_file(spec: ModelSpec) -> UrlFile:
    url = model_urls()[weights_key(spec.arch, _filter_size(spec))]
    name = url.rsplit("/", 1)[-1]
    return UrlFile(url, name, sha256_in_name(name), LICENCE)


def build_module(arch: str, filter_size: int) -> Any:
    import antialiased_cnns

    return getattr(antialiased_cnns, arch)(pretrained=False, filter_size=filter_size)


def package_state(state: dict, arch: str) -> dict:
    """The checkpoint's tensors as the package loads them (`['state_dict']`, DenseNet's key fix)."""
    state = dict(unwrap(state, "state_dict"))
    if arch.startswith("densenet"):
        state = {(f"{m.group(1)}{m.group(2)}" if (m := _DENSE_KEY.match(k)) else k): v for k, v in state.items()}
    return state


class AntialiasedBackend:
    """antialiased-cnns' BlurPool ResNets, VGGs, DenseNets, MobileNet-v2 and AlexNet."""

    name = "antialiased"

    def parse(self, name: str) -> ModelSpec:
        """`<arch>_lpf<N>` against the package's weights table."""
        m = _ID.fullmatch(name)
        urls = model_urls()
        pool = sorted(f"antialiased:{k}" for k in urls if not k.endswith("_finetune"))
        if m is None or weights_key(m.group(1), int(m.group(2))) not in urls:
            raise UnknownNameError("antialiased-cnns model", f"antialiased:{name}",
                                   suggest(f"antialiased:{name}", pool))
        return ModelSpec(f"antialiased:{name}", self.name, m.group(1), f"lpf{m.group(2)}", False)

    def url_files(self, spec: ModelSpec) -> tuple[UrlFile, ...]:
        """The weights files at URLs, with their published checksum and licence."""
        return (_url_file(spec),)

    def find(self, spec: ModelSpec) -> WeightsSource | None:
        """Where the package itself keeps the file ($TORCH_HOME/hub/checkpoints)."""
        f = _url_file(spec)
        path = cached_url_file(f)
        return WeightsSource("url-cache", f"torch-hub-cache:{f.filename}", path) if path else None

    def build(self, spec: ModelSpec, src: WeightsSource, templates: str = "",
              progress: Progress | None = None) -> Built:
        """The network with the weights from `src` (tensors only, strict), its eval view and class names."""
        from advisor.models.checkpoints import read_state

        try:
            model = build_module(spec.arch, _filter_size(spec))
            if src.origin != "random":
                model.load_state_dict(package_state(read_state(src.path or ""), spec.arch), strict=True)
        except AdvisorError:
            raise
        except Exception as e:
            raise load_error(spec, src, e) from None
        model.eval().requires_grad_(False)
        return Built(model, view(224), imagenet_class_names(), FeatureTap(model))

    def outputs(self, built: Built, x: Any) -> tuple[Any, Any]:
        """Logits, and the input of the final classifier layer as the embedding (one pass)."""
        return built.head.run(built.module, x)

    def how_to_get(self, spec: ModelSpec) -> str:
        """Where the weights come from and how to fetch them (with consent, or by hand)."""
        fetch = (f"python -c \"import antialiased_cnns; antialiased_cnns.{spec.arch}(pretrained=True, "
                 f"filter_size={_filter_size(spec)})\"")
        return file_cache_hint(spec, fetch, torch_hub_dir())

    def hub_files(self, spec: ModelSpec) -> HubFiles:
        """Not on the Hugging Face hub: WeightsUnavailableError (the files are at URLs)."""
        raise WeightsUnavailableError(f"{spec.model_id}: antialiased-cnns publishes its weights at a URL, "
                                      "not on the Hugging Face hub.")


BACKEND = AntialiasedBackend()
