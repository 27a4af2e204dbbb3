"""timm's published validation results and inference benchmarks -> `timm:<arch.tag>` scores.

Choices (all made from the files, none typed in):
- Default size: a model listed at several `img_size` is scored at the smallest as item '' (that is
  its pretrained-cfg `input_size`; the larger one is `test_input_size`, checked against timm 1.0.31
  in the tests) and at the others as item 'img<size>' (ImageNet top-1 only). ReaL and the shift
  sets are stored at the default size only, so an item never mixes resolutions.
- Benchmarks: ONE GPU file and ONE CPU file, never mixed (`GPU_FILE`, `CPU_FILE`): the GPU file is
  the non-dynamo AMP run with the most rows among the newest (pt2.9.1) runs, which all cover every
  (arch, img_size) in the results; the CPU file is the newest fp32 run (pt2.4.0) with the better
  coverage. Benchmark rows are per architecture, so every tag of an arch shares them ('per
  architecture' in the note); GMACs come from the GPU file.
- Metadata heuristics (family, arch type, paradigm, pretraining data) are documented tables below.
"""

from __future__ import annotations

import re

from advisor.errors import SourceFileError
from advisor.ids import make_id, split_load_name
from advisor.store.sources.base import BuildContext, Collector, SourceRecord, csv_line, read_csv, to_float

FOLDER = "timm"
RESULTS = "results-imagenet.csv"
SHIFTS = {  # property, item, file
    "real": ("imagenet_real_top1", "", "results-imagenet-real.csv"),
    "v2": ("shift_top1", "imagenet-v2", "results-imagenetv2-matched-frequency.csv"),
    "sketch": ("shift_top1", "imagenet-sketch", "results-sketch.csv"),
    "a": ("shift_top1", "imagenet-a", "results-imagenet-a.csv"),
    "r": ("shift_top1", "imagenet-r", "results-imagenet-r.csv"),
}
GPU_FILE = "benchmark-infer-amp-nchw-pt291-cu130-pro6000maxq.csv"
CPU_FILE = "benchmark-infer-fp32-nchw-pt240-cpu-i7_12700h-dynamo.csv"
GPU_ITEM = GPU_FILE.removeprefix("benchmark-infer-").removesuffix(".csv")
CPU_ITEM = CPU_FILE.removeprefix("benchmark-infer-").removesuffix(".csv")
REPO = "https://github.com/huggingface/pytorch-image-models"
COMMIT = "aa4b5850c1543fa488abf260f18390eda46cf85d"

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Family = first name token (after a port prefix) without its size digits; these first tokens are
# modifiers, so the family keeps the next token too (eca_nfnet, wide_resnet, inception_v3, ...).
_PORT_PREFIXES = ("tf", "legacy", "dm")
_TWO_TOKEN = _words("wide inception nf eca gc ese bat tiny")

# Architecture type by family. Families in none of these (MLP-Mixer, ResMLP, gMLP, Sequencer's LSTMs,
# timm's tiny `test_*` nets) get no arch_type: none of CNN / Transformer / hybrid fits.
TRANSFORMER = _words(
    "vit deit deit3 beit beit3 beitv2 eva eva02 swin swinv2 cait crossvit tnt twins xcit volo flexivit "
    "naflexvit hiera mvitv2 pvt nest davit pit")
HYBRID = _words(  # convolution and attention in one network
    "coat coatnet coatnext maxvit maxxvit maxxvitv2 levit fastvit convit mobilevit mobilevitv2 edgenext "
    "nextvit visformer efficientvit efficientformer efficientformerv2 swiftformer caformer gcvit tiny_vit "
    "shvit botnet sebotnet halonet sehalonet halo2botnet lamhalobotnet eca_botnext eca_halonext "
    "haloregnetz lambda focalnet")
CNN = _words(
    "bat_resnext convformer convmixer convnext convnextv2 cs3darknet cs3edgenet cs3se cs3sedarknet "
    "cspdarknet cspresnet cspresnext darknet darknetaa densenet densenetblur dla dpn eca_nfnet eca_resnet "
    "eca_resnext ecaresnet ecaresnetlight efficientnet efficientnetv2 ese_vovnet fasternet fbnetc fbnetv3 "
    "gc_efficientnetv2 gcresnet gcresnext gernet ghostnet ghostnetv2 ghostnetv3 hardcorenas hgnet "
    "hgnetv2 hrnet inception_next inception_resnet inception_v3 inception_v4 lcnet mambaout mixnet "
    "mnasnet mobilenet mobilenetv1 mobilenetv2 mobilenetv3 mobilenetv4 mobileone nasnetalarge nf_regnet "
    "nf_resnet nfnet pnasnet5large poolformer poolformerv2 rdnet regnetv regnetx regnety regnetz "
    "repghostnet repvgg repvit res2net res2next resnest resnet resnetaa resnetblur resnetrs resnetv2 "
    "resnext rexnet rexnetr selecsls semnasnet senet seresnet seresnext seresnextaa skresnet skresnext "
    "spnasnet starnet tinynet tresnet vgg wide_resnet xception")

# Pretraining data named by tag tokens (kept as timm spells them, except where noted).
_DATA = {"in1k": "in1k", "in12k": "in12k", "in21k": "in21k", "in22k": "in22k", "laion2b": "laion2b",
         "laiona": "laion-aesthetic", "openai": "openai", "webli": "webli", "ig1b": "ig1b",
         "yfcc100m": "yfcc100m", "jft": "jft300m", "m30m": "merged-30m", "m38m": "merged-38m"}
_SCHEME_DATA = {"swag": "ig3.6b", "seer": "ig1b"}  # the scheme implies its (Instagram) data
_CLIP_TOKENS = _words("clip openai laion2b laiona dfn metaclip webli")
_SSL_TOKENS = _words("mim mae fcmae seer dino")
_MIM_FAMILIES = _words("beit beit3 beitv2 eva eva02")  # all their timm weights are MIM-pretrained


def family_of(arch: str) -> str:
    """'convnext_base' -> 'convnext', 'resnet50d' -> 'resnet', 'tf_efficientnet_b0' -> 'efficientnet'."""
    toks = arch.split("_")
    while toks[0] in _PORT_PREFIXES and len(toks) > 1:
        toks = toks[1:]

    def strip(tok: str) -> str:  # drop a size suffix of 2+ digits (not versions like v2, eva02, deit3)
        return re.sub(r"(?<=[a-z])[1-9]\d+[a-z0-9]{0,2}$", "", tok)

    if toks[0] in _TWO_TOKEN and len(toks) > 1:
        return f"{toks[0]}_{strip(toks[1])}"
    return strip(toks[0])


def arch_type_of(family: str) -> str | None:
    if family in TRANSFORMER:
        return "Transformer"
    if family in HYBRID:
        return "hybrid"
    if family in CNN:
        return "CNN"
    return None


def paradigm_of(arch: str, tag: str) -> str:
    """Best effort from the tag; a CLIP-pretrained model in these results is always fine-tuned."""
    toks = set(tag.split("_"))
    if "adv" in toks:
        return "adversarial"
    if toks & _CLIP_TOKENS or "_clip_" in f"_{arch}_" or "siglip" in arch:
        return "clip-finetuned"
    if toks & _SSL_TOKENS or family_of(arch) in _MIM_FAMILIES:
        return "self-supervised"
    if toks & {"ssl", "swsl", "ns"}:
        return "semi-supervised"
    if toks & {"wsl", "swag"}:
        return "weakly-supervised"
    return "supervised"


def data_of(tag: str) -> tuple[str | None, str | None]:
    """(pretrain_data, finetune_data) from a tag; datasets in order, joined with '+'."""
    toks = tag.split("_")
    scheme = next((_SCHEME_DATA[t] for t in toks if t in _SCHEME_DATA), None)
    if "ft" in toks:
        i = toks.index("ft")
        before = [_DATA[t] for t in toks[:i] if t in _DATA]
        after = [_DATA[t] for t in toks[i + 1:] if t in _DATA]
        return scheme or ("+".join(before) or None), "+".join(after) or None
    found = [_DATA[t] for t in toks if t in _DATA]
    if scheme:
        return scheme, "+".join(found) or None
    return "+".join(found) or None, None


def _bench(ctx: BuildContext, name: str) -> dict[tuple[str, int], dict[str, float | None]]:
    path = ctx.file(FOLDER, name)
    df = read_csv(path, ["model", "infer_img_size", "infer_samples_per_sec", "infer_gmacs"], dtype=str,
                  keep_default_na=False)
    out: dict[tuple[str, int], dict[str, float | None]] = {}
    for i, r in enumerate(df.itertuples(index=False)):
        line = csv_line(i)
        size = to_float(r.infer_img_size, path, line, "infer_img_size")
        if size is None:
            raise SourceFileError(path, "blank infer_img_size", line)
        out[(r.model, int(size))] = {
            "ips": to_float(r.infer_samples_per_sec, path, line, "infer_samples_per_sec"),
            "gmacs": to_float(r.infer_gmacs, path, line, "infer_gmacs")}
    return out


def _results(ctx: BuildContext, name: str) -> dict[tuple[str, int], float]:
    path = ctx.file(FOLDER, name)
    df = read_csv(path, ["model", "img_size", "top1"], dtype=str, keep_default_na=False)
    out = {}
    for i, r in enumerate(df.itertuples(index=False)):
        line = csv_line(i)
        size, top1 = to_float(r.img_size, path, line, "img_size"), to_float(r.top1, path, line, "top1")
        if size is not None and top1 is not None:
            out[(r.model, int(size))] = top1
    return out


def ingest(ctx: BuildContext, out: Collector) -> None:
    base = dict(citation="Wightman, R. PyTorch Image Models (timm).", repo=REPO, commit=COMMIT,
                licence="Apache-2.0")
    res = out.add_source(SourceRecord("timm_results", "timm ImageNet validation results",
                                      file="results/" + ", ".join([RESULTS, *(f for *_, f in SHIFTS.values())]),
                                      **base))
    gpu = out.add_source(SourceRecord("timm_bench_gpu", f"timm inference benchmark ({GPU_ITEM})",
                                      file=f"results/{GPU_FILE}", **base))
    cpu = out.add_source(SourceRecord("timm_bench_cpu", f"timm inference benchmark ({CPU_ITEM})",
                                      file=f"results/{CPU_FILE}", **base))
    path = ctx.file(FOLDER, RESULTS)
    df = read_csv(path, ["model", "img_size", "top1", "param_count"], dtype=str, keep_default_na=False)
    rows: dict[str, list[tuple[int, float | None, float | None]]] = {}
    for i, r in enumerate(df.itertuples(index=False)):
        line = csv_line(i)
        if "." not in r.model:
            raise SourceFileError(path, f"model {r.model!r} has no pretrained tag", line)
        size = to_float(r.img_size, path, line, "img_size")
        if size is None:
            raise SourceFileError(path, "blank img_size", line)
        params = to_float(str(r.param_count).replace(",", ""), path, line, "param_count")
        rows.setdefault(r.model, []).append((int(size), to_float(r.top1, path, line, "top1"), params))
    shifts = {k: _results(ctx, f) for k, (*_, f) in SHIFTS.items()}
    gpu_rows, cpu_rows = _bench(ctx, GPU_FILE), _bench(ctx, CPU_FILE)

    for name, entries in rows.items():
        arch, tag = split_load_name(name)
        if arch.startswith("test_"):  # timm's tiny CI nets: not models anyone deploys; they crowd Pareto fronts
            continue
        mid = make_id("timm", name)
        twin = ctx.resolver.curated(res, name)
        if twin is not None and twin[0] != mid:  # same checkpoint under another timm name (curated)
            out.add_alias(res, name, twin[0], twin[1])
            continue
        entries.sort()
        size0, _, params = entries[0]
        fam = family_of(arch)
        pre, fine = data_of(tag)
        bench_gpu = gpu_rows.get((arch, size0), {})
        out.add_model(mid, res, family=fam, arch_type=arch_type_of(fam), paradigm=paradigm_of(arch, tag),
                      pretrain_data=pre, finetune_data=fine, params_m=params, gmacs=bench_gpu.get("gmacs"),
                      img_size=size0, loader="timm", load_name=name)
        out.add_alias(res, name, mid)
        for size, top1, _ in entries:
            if top1 is not None:
                out.add_score(mid, "imagenet_top1", top1, res, item="" if size == size0 else f"img{size}",
                              note="" if size == size0 else f"at img_size {size} (test size)")
        for key, (prop, item, _) in SHIFTS.items():
            v = shifts[key].get((name, size0))
            if v is not None:
                out.add_score(mid, prop, v, res, item=item)
        if params is not None:
            out.add_score(mid, "params_m", params, res)
        note = f"per architecture ({arch} at {size0}px)"
        if bench_gpu.get("gmacs") is not None:
            out.add_score(mid, "gmacs", bench_gpu["gmacs"], gpu, note=f"{note}; {GPU_FILE}")
        if bench_gpu.get("ips") is not None:
            out.add_score(mid, "throughput_gpu", bench_gpu["ips"], gpu, item=GPU_ITEM, note=note)
        ips_cpu = cpu_rows.get((arch, size0), {}).get("ips")
        if ips_cpu is not None:
            out.add_score(mid, "throughput_cpu", ips_cpu, cpu, item=CPU_ITEM, note=note)
