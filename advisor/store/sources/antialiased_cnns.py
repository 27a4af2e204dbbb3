"""Shift consistency of 23 torchvision CNNs and their anti-aliased (BlurPool) versions (Zhang, ICML 2019).

Source: precomputed/sources/antialiased_cnns/ (adobe/antialiased-cnns README tables; CC BY-NC-SA 4.0,
flagged non-commercial). `baseline` rows are torchvision's IMAGENET1K_V1 weights -> `timm:<arch>.tv_in1k`
where timm publishes that tag, else `torchvision:<arch>.IMAGENET1K_V1`; `antialiased_lpf4` rows are the
package's own weights -> `antialiased:<arch>_lpf4`; `advisor.store.obtain.loader_call` maps every
`antialiased:<arch>_lpf<N>` id to its pip-package call.
"""

from __future__ import annotations

from advisor.errors import SourceFileError
from advisor.ids import make_id
from advisor.store.sources.base import BuildContext, Collector, SourceRecord, csv_line, read_csv, to_float

FOLDER = "antialiased_cnns"
FILE = "imagenet_accuracy_consistency.csv"
SOURCE_ID = "antialiased_cnns"
VARIANTS = ("baseline", "antialiased_lpf4")
RECORD = SourceRecord(
    SOURCE_ID, "Anti-aliased CNNs: ImageNet accuracy and shift consistency",
    citation="Zhang, R. Making Convolutional Networks Shift-Invariant Again (ICML 2019).",
    repo="https://github.com/adobe/antialiased-cnns", file="README.md (tables ACCURACY, CONSISTENCY)",
    commit="b27a34a26f3ab039113d44d83c54d0428598ac9c", licence="CC BY-NC-SA 4.0", non_commercial=True)


def model_id_of(arch: str, variant: str, timm_names: frozenset[str]) -> str:
    """Canonical id of one row's checkpoint."""
    if variant == "antialiased_lpf4":
        return make_id("antialiased", f"{arch}_lpf4")
    if f"{arch}.tv_in1k" in timm_names:
        return make_id("timm", f"{arch}.tv_in1k")
    return make_id("torchvision", f"{arch}.IMAGENET1K_V1")


def ingest(ctx: BuildContext, out: Collector) -> None:
    path = ctx.file(FOLDER, FILE)
    df = read_csv(path, ["model", "variant", "top1", "shift_consistency"], dtype=str, keep_default_na=False)
    src = out.add_source(RECORD)
    seen: set[tuple[str, str]] = set()
    for i, r in enumerate(df.itertuples(index=False)):
        line = csv_line(i)
        arch, variant = r.model.strip(), r.variant.strip()
        if variant not in VARIANTS or (arch, variant) in seen:
            raise SourceFileError(path, f"unknown or repeated variant {variant!r} for {arch!r}", line)
        seen.add((arch, variant))
        top1 = to_float(r.top1, path, line, "top1")
        cons = to_float(r.shift_consistency, path, line, "shift_consistency")
        if top1 is None or cons is None or not (0 <= top1 <= 100 and 0 <= cons <= 100):
            raise SourceFileError(path, "top1 and shift_consistency must be percentages", line)
        mid, conf = ctx.resolver.resolve(SOURCE_ID, f"{arch} {variant}", model_id_of(arch, variant,
                                                                                     ctx.resolver.timm_names))
        if variant == "antialiased_lpf4":
            out.add_model(mid, src, display_name=f"{arch} anti-aliased (LPF-4)", arch_type="CNN",
                          paradigm="supervised", pretrain_data="in1k", derived_from=model_id_of(
                              arch, "baseline", ctx.resolver.timm_names))
        else:
            out.add_model(mid, src, arch_type="CNN", paradigm="supervised", pretrain_data="in1k")
        out.add_alias(src, f"{arch} {variant}", mid, conf)
        out.add_score(mid, "imagenet_top1", top1, src, note="as printed in the README (2 decimals)")
        out.add_score(mid, "shift_consistency", cons, src,
                      note="% of val images whose top-1 class agrees on two random shifts of the crop")
