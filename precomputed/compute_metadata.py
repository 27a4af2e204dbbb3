"""Maintenance script: the libraries' own metadata, and parameters / MACs counted from the architectures.

Writes precomputed/sources/libraries/{model_metadata.csv, versions.csv, macs_check.csv} for the models of the
store (built from the current sources), so the normal build needs neither torch nor the network, and
robustbench_imagenet_models.csv (RobustBench's ImageNet model list, for the load-call test):

- published (read from the installed libraries): timm `pretrained_cfg` (licence, weights file), open_clip's
  pretrained entries (weights file, input size from the model config, data from the tag; the licence of the
  hub repository through hub_licences.csv), torchvision's weights enums (`meta`: parameters, `_ops`, licence
  where stated, input size from `transforms()`), antialiased-cnns' `model_urls`, RobustBench's model zoo
  (input size from its preprocessing name).
- computed (here, without weights): every model is built on the meta device (`torch.device("meta")`) and
  one image of its input size goes through it under `torch.utils.flop_counter.FlopCounterMode`; MACs =
  counted FLOPs / 2 (the counter counts a multiply-add of a matmul or convolution as 2 FLOPs and ignores
  element-wise ops, as fvcore's MAC count does). `macs_check.csv` compares the count with the published
  GMACs where a library has both (timm's benchmark file, torchvision's `_ops`).

Run niced, once (it caches every count under $VISION_ADVISOR_CACHE or ~/.cache/vision-advisor):
    nice -n 10 python precomputed/compute_metadata.py
RobustBench cannot be installed next to this timm (it pins timm==1.0.9); point ROBUSTBENCH_SRC at an
unpacked wheel (`pip download --no-deps robustbench==1.1.1` + unzip) to count its architectures too.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
import tempfile
import time
import warnings
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "precomputed" / "sources" / "libraries"
sys.path.insert(0, str(ROOT))
TIMM_BENCH = "benchmark-infer-amp-nchw-pt291-cu130-pro6000maxq.csv"  # the file the timm ingester reads
RB_SIZE = {"Res256Crop224": 224, "BicubicRes256Crop224": 224, "Crop288": 288, "Res224": 224, None: 224}


class Counter:
    """Parameters (M) and GMACs of a model built by `build()` at `size`, cached by key."""

    def __init__(self, cache: Path) -> None:
        self.path = cache
        self.data: dict[str, list[float] | str] = json.loads(cache.read_text()) if cache.is_file() else {}

    @staticmethod
    def _count(build, size: int, device: str) -> tuple[float, float]:
        """(parameters in M, GMACs); grad mode stays on (FlopCounterMode's module tracker needs it)."""
        import contextlib

        import torch
        from torch.utils.flop_counter import FlopCounterMode

        with torch.device("meta") if device == "meta" else contextlib.nullcontext():
            model = build()
        model.eval()
        with FlopCounterMode(display=False) as fc:
            model(torch.zeros(1, 3, size, size, device=device))
        return sum(p.numel() for p in model.parameters()) / 1e6, fc.get_total_flops() / 2e9

    def count(self, key: str, build, size: int) -> tuple[float, float] | None:
        k = f"{key}@{size}"
        if k not in self.data:
            t0 = time.time()
            try:
                try:
                    got = self._count(build, size, "meta")
                except (RuntimeError, NotImplementedError):  # code that reads tensor values: build it for real
                    got = self._count(build, size, "cpu")
                self.data[k] = list(got)
            except Exception as exc:  # recorded and reported; the rest goes on
                self.data[k] = f"{type(exc).__name__}: {str(exc)[:160]}"
            print(f"  {k}: {self.data[k]} ({time.time() - t0:.1f} s)", flush=True)
            self.path.write_text(json.dumps(self.data))
        v = self.data[k]
        return None if isinstance(v, str) else (v[0], v[1])


def store_models():
    """The models table of a store built from the current sources (in a temp file)."""
    from advisor.store.build import build_store
    from advisor.store.store import PropertyStore

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "s.duckdb"
        build_store(db)
        s = PropertyStore(db, auto_build=False)
        try:
            return s.query("SELECT model_id, weights_from, load_call, params_m, gmacs, img_size FROM models")
        finally:
            s.close()


def hub_licence(repo: str, rules: list[tuple[re.Pattern[str], str, str]]) -> tuple[str, str] | None:
    return next(((lic, ev) for p, lic, ev in rules if p.search(repo)), None)


def main() -> int:
    warnings.filterwarnings("ignore")
    import antialiased_cnns
    import open_clip
    import timm
    import torch
    import torchvision
    from timm.models import get_pretrained_cfg
    from torchvision.models import get_model, get_model_weights

    from advisor.store.sources.open_clip import pretrain_of

    cache_dir = Path(os.environ.get("VISION_ADVISOR_CACHE", Path.home() / ".cache" / "vision-advisor"))
    cache_dir.mkdir(parents=True, exist_ok=True)
    counter = Counter(cache_dir / "compute_metadata.json")
    rules = [(re.compile(r["pattern"]), r["licence"], r["evidence"])
             for r in csv.DictReader((OUT / "hub_licences.csv").open())]
    bench = {(r["model"], int(r["infer_img_size"])): float(r["infer_gmacs"])
             for r in csv.DictReader((ROOT / "precomputed/sources/timm" / TIMM_BENCH).open()) if r["infer_gmacs"]}
    aa_urls: dict[str, str] = {}
    for mod in ("alexnet", "densenet", "mobilenet", "resnet", "vgg"):
        aa_urls.update(__import__(f"antialiased_cnns.{mod}", fromlist=["model_urls"]).model_urls)
    rb = robustbench_zoo()
    if rb:  # RobustBench's own list, for the load-call test (the package cannot be installed here)
        with (OUT / "robustbench_imagenet_models.csv").open("w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["threat_model", "name", "preprocessing"])
            w.writerows([t, n, e.get("preprocessing") or ""] for t, zoo in rb.items() for n, e in zoo.items())
    versions = {"torch": torch.__version__, "timm": timm.__version__, "open_clip": open_clip.__version__,
                "torchvision": torchvision.__version__, "antialiased-cnns": "0.3"}
    if rb:
        versions["robustbench"] = "1.1.1 (model zoo read from the wheel)"
    tag = f"torch {torch.__version__} FlopCounterMode, meta device"
    rows: list[list[str]] = []
    checks: list[list[str]] = []

    def put(mid, field, value, kind, detail):
        rows.append([mid, field, f"{value:.6g}" if isinstance(value, float) else str(value), kind, detail])

    def counted(mid, key, build, size, what, params=True):
        got = counter.count(key, build, size)
        if got is None:
            return None
        if params:
            put(mid, "params_m", round(got[0], 3), "computed", f"{what}, counted on the meta device ({tag})")
        put(mid, "gmacs", round(got[1], 4), "computed", f"{what} at {size} px: FLOPs / 2 ({tag})")
        return got

    models = store_models()
    print(f"{len(models)} models in the store", flush=True)
    for i, m in enumerate(models.itertuples(index=False)):
        mid, src = m.model_id, m.weights_from
        ns, _, name = mid.partition(":")
        if i % 100 == 0:
            print(f"[{i}/{len(models)}] {mid}", flush=True)
        if ns == "timm" or src == "timm":
            name = name if ns == "timm" else re.search(r'create_model\("([^"]+)"', m.load_call).group(1)
            cfg = get_pretrained_cfg(name)
            if cfg is None:
                continue
            url = cfg.url or (f"https://huggingface.co/{cfg.hf_hub_id.rstrip('/')}" if cfg.hf_hub_id else "")
            if url:
                put(mid, "weights_url", url, "published", f"timm {timm.__version__} pretrained_cfg")
            if cfg.license and cfg.license != "unknown":
                put(mid, "weights_licence", cfg.license, "published",
                    f"timm {timm.__version__} pretrained_cfg['license']")
            if zlib.crc32(name.encode()) % 25 == 0 and m.gmacs == m.gmacs:  # a fixed sample, to check the count
                arch, size = name.split(".")[0], int(m.img_size)
                got = counter.count(f"timm:{arch}", lambda a=arch: timm.create_model(a, pretrained=False), size)
                if got:
                    checks.append(["timm", name, str(size), f"{m.gmacs:g}", f"{got[1]:.4f}"])
        elif ns == "open_clip":
            arch, tag_ = name.split(".", 1)
            pc = open_clip.get_pretrained_cfg(arch, tag_)
            hub, url = (pc.get("hf_hub") or "").rstrip("/"), pc.get("url") or ""
            where = url or (f"https://huggingface.co/{hub}" if hub else "")
            if where:
                put(mid, "weights_url", where, "published", f"open_clip {open_clip.__version__} pretrained entry")
            lic = hub_licence(url or hub, rules) or hub_licence(hub, rules)
            if lic:
                put(mid, "weights_licence", lic[0], "published", f"{lic[1]} (hub repository {hub or url})")
            pre, _ = pretrain_of(tag_)
            if pre:
                put(mid, "pretrain_data", pre, "published", f"open_clip pretrained tag {tag_!r}")
            vcfg = open_clip.get_model_config(arch)["vision_cfg"]
            size = vcfg["image_size"] if isinstance(vcfg["image_size"], int) else vcfg["image_size"][0]
            put(mid, "img_size", size, "published", f"open_clip {open_clip.__version__} model config {arch} vision_cfg")
            counted(mid, f"open_clip:{arch}", lambda a=arch: open_clip_visual(open_clip, a), size,
                    "image tower (the text tower runs once per class name, not per image)", params=False)
        elif ns == "torchvision":
            builder, enum = name.split(".", 1)
            w = get_model_weights(builder)[enum]
            meta = w.meta
            put(mid, "weights_url", w.url, "published", f"torchvision {torchvision.__version__} weights enum")
            put(mid, "params_m", meta["num_params"] / 1e6, "published", "torchvision weights meta num_params")
            size = int(w.transforms().crop_size[0])
            put(mid, "img_size", size, "published", "torchvision weights transforms() crop_size")
            put(mid, "gmacs", float(meta["_ops"]), "published",
                "torchvision weights meta _ops (documented as GFLOPS; it counts one multiply-add once, i.e. MACs: "
                "equal to the count here, see macs_check.csv)")
            extra = {"image_size": size} if builder.startswith("vit_") else {}  # torchvision ViTs fix their size
            got = counter.count(f"torchvision:{builder}",
                                lambda b=builder, kw=extra: get_model(b, weights=None, **kw), size)
            if got:
                checks.append(["torchvision", name, str(size), f"{meta['_ops']:g}", f"{got[1]:.4f}"])
            swag = "SWAG" in enum
            why = ("SWAG weakly-supervised pre-training on Instagram-3.6B, then ImageNet-1K (its meta _docs)" if swag
                   else "trained on ImageNet-1K")
            put(mid, "pretrain_data", "ig3.6b" if swag else "in1k", "published",
                f"torchvision weights enum {enum}: {why}")
            if "license" in meta:
                put(mid, "weights_licence", "cc-by-nc-4.0" if "SWAG" in meta["license"] else meta["license"],
                    "published", f"torchvision weights meta license {meta['license']}")
            else:
                put(mid, "weights_licence", "bsd-3-clause", "published",
                    "torchvision's repository licence (BSD-3-Clause); the weights enum names no other (torchvision's "
                    "README: dataset terms may also apply)")
        elif ns == "antialiased" and (mm := re.fullmatch(r"(\w+?)_lpf(\d)", name)):
            arch, n = mm.group(1), int(mm.group(2))
            key = f"{arch}_lpf4_finetune" if n == 4 and f"{arch}_lpf4_finetune" in aa_urls else f"{arch}_lpf{n}"
            put(mid, "weights_url", aa_urls[key], "published", f"antialiased-cnns 0.3 model_urls[{key!r}]")
            put(mid, "weights_licence", "cc-by-nc-sa-4.0", "published",
                "antialiased-cnns 0.3: every module's header (CC BY-NC-SA 4.0, Adobe)")
            put(mid, "img_size", 224, "published",
                "antialiased-cnns trains and evaluates at 224 px crops (README, main.py)")
            put(mid, "pretrain_data", "in1k", "published", "antialiased-cnns: trained on ImageNet-1k (README)")
            counted(mid, f"antialiased:{arch}_{n}",
                    lambda a=arch, k=n: getattr(antialiased_cnns, a)(pretrained=False, filter_size=k), 224,
                    f"antialiased_cnns.{arch}(filter_size={n})")
        elif ns == "robustbench" and rb:
            threat = "corruptions" if "corruptions" in (m.load_call or "") else "Linf"
            entry = rb.get(threat, {}).get(name)
            if entry is None:
                continue
            size = RB_SIZE.get(entry.get("preprocessing"), 224)
            put(mid, "img_size", size, "published",
                f"RobustBench model zoo preprocessing {entry.get('preprocessing') or 'Res256Crop224 (default)'}")
            counted(mid, f"robustbench:{threat}:{name}", entry["model"], size, f"RobustBench {threat} model {name}")
        elif src == "release file" and m.load_call:
            arch = re.search(r'timm\.create_model\("(\w+)"', m.load_call).group(1)
            put(mid, "weights_licence", "apache-2.0", "published",
                f"timm {timm.__version__} pretrained_cfg states apache-2.0 for the files of the same release it "
                "serves (resnet50.a1_in1k); timm's repository licence")
            put(mid, "img_size", 224, "published", "RSB models are evaluated at 224 px (Wightman et al. 2021)")
            if (arch, 224) in bench:
                put(mid, "gmacs", bench[(arch, 224)], "published", f"timm benchmark {TIMM_BENCH}: {arch} at 224 px")
            else:
                counted(mid, f"timm:{arch}", lambda a=arch: timm.create_model(a, pretrained=False), 224,
                        f"timm {arch}", params=False)
        elif src == "torch.hub" and "dinov2" in (m.load_call or ""):
            put(mid, "pretrain_data", "lvd142m", "published",
                "DINOv2 backbone: timm tags its weights vit_*_patch14_dinov2.lvd142m (LVD-142M)")
            put(mid, "weights_licence", "apache-2.0", "published",
                f"facebookresearch/dinov2 (Apache-2.0); timm {timm.__version__} states apache-2.0 for its dinov2 tags")
            put(mid, "img_size", 224, "published", "DINOv2's linear classifiers are trained and evaluated at 224 px")
            size_, reg = re.search(r"dinov2_vit(\w)14(_reg)?_lc", m.load_call).groups()
            arch = {"s": "small", "b": "base", "l": "large", "g": "giant"}[size_]
            arch = f"vit_{arch}_patch14_{'reg4_' if reg else ''}dinov2"
            counted(mid, f"timm:{arch}", lambda a=arch: timm.create_model(a, pretrained=False, img_size=224), 224,
                    f"the DINOv2 backbone as timm builds it ({arch}); the linear head adds under 0.01 GMACs",
                    params=False)
        elif src == "torch.hub" and "facebookresearch/dino:" in (m.load_call or ""):
            put(mid, "weights_licence", "apache-2.0", "published",
                f"facebookresearch/dino repository licence (Apache-2.0); timm {timm.__version__} states apache-2.0 "
                "for its DINO tags (vit_base_patch16_224.dino)")
            put(mid, "img_size", 224, "published", "DINO linear evaluation at 224 px crops (eval_linear.py)")
            counted(mid, "torchvision:resnet50", lambda: get_model("resnet50", weights=None), 224,
                    "torchvision resnet50 (DINO's backbone) with a 2048x1000 linear head", params=False)
    write(rows, checks, versions)
    return 0


def open_clip_visual(open_clip, arch: str):
    """The image tower alone (the text tower may need a Hugging Face tokenizer download)."""
    from open_clip.model import _build_vision_tower

    cfg = open_clip.get_model_config(arch)
    return _build_vision_tower(cfg["embed_dim"], cfg["vision_cfg"], quick_gelu=cfg.get("quick_gelu", False))


def robustbench_zoo() -> dict:
    """RobustBench's ImageNet model zoo {threat: {name: entry}} from an unpacked wheel, or {} without one."""
    src = os.environ.get("ROBUSTBENCH_SRC")
    if not src:
        print("ROBUSTBENCH_SRC not set: RobustBench architectures are not counted", flush=True)
        return {}
    import types

    class Stub(types.ModuleType):  # modules robustbench imports for CIFAR / attacks only
        def __getattr__(self, k):
            if k.startswith("__"):
                raise AttributeError(k)
            return Stub(k)

        def __call__(self, *a, **k):
            return Stub("call")

    for name in ("geotorch", "torchdiffeq", "autoattack", "autoattack.state", "gdown", "pkg_resources"):
        sys.modules.setdefault(name, Stub(name))
    sys.path.insert(0, src)
    from robustbench.model_zoo import imagenet

    return {"Linf": dict(imagenet.linf), "corruptions": dict(imagenet.common_corruptions)}


def write(rows: list[list[str]], checks: list[list[str]], versions: dict[str, str]) -> None:
    rows.sort()
    with (OUT / "model_metadata.csv").open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["model_id", "field", "value", "kind", "detail"])
        w.writerows(rows)
    with (OUT / "versions.csv").open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["package", "version"])
        w.writerows(sorted(versions.items()))
    with (OUT / "macs_check.csv").open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["library", "model", "img_size", "published_gmacs", "computed_gmacs"])
        w.writerows(checks)
    print(f"wrote {len(rows)} metadata rows, {len(checks)} MAC checks to {OUT}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
