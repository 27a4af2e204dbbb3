"""Meta-tests over every registry: a new entry that some consumer does not understand fails here."""

from __future__ import annotations

import pytest

from advisor.cli import build_parser
from advisor.cli.common import limits_from_args
from advisor.ranking.needs import list_needs
from advisor.ranking.request import LIMITS, Limits, limits_from_dict, limits_to_dict
from advisor.report.formats import FORMATS
from advisor.store.properties import PROPERTIES

# A non-default value per limit kind (ids and "ready" lists are resolved by the caller).
SAMPLE = {"max": 12.5, "min": 40.0, "in": ("supervised", "clip"), "ids": ("timm:a.b", "timm:c.d"), "flag": True,
          "include": True}


def _value(spec):
    if spec.numeric:
        return 224 if spec.integer else SAMPLE[spec.kind]
    return SAMPLE.get(spec.kind)


def _cli_argv(spec) -> list[str]:
    v = _value(spec)
    if spec.numeric:
        return [spec.cli, str(v)]
    if spec.kind in ("in", "ids"):
        return [a for x in v for a in (spec.cli, x)]
    return [spec.cli]


def test_every_need_names_only_known_properties():
    known = {p.property_id for p in PROPERTIES}
    for need in list_needs():
        assert need.features, need.name
        for f in need.features:
            assert f.property_id in known, (need.name, f.property_id)


def test_limits_spec_matches_the_limits_record():
    from dataclasses import fields

    assert [s.name for s in LIMITS] == [f.name for f in fields(Limits)]
    assert len({s.cli for s in LIMITS}) == len({s.url for s in LIMITS}) == len(LIMITS)


@pytest.mark.parametrize("spec", [s for s in LIMITS if s.kind != "ready"], ids=lambda s: s.name)
def test_every_limit_round_trips_cli_url_and_json(spec):
    from advisor.ui import state

    want = Limits(**{spec.name: _value(spec)})
    # CLI flags
    args = build_parser().parse_args(["rank", "--need", "accuracy=1", *_cli_argv(spec)])
    assert limits_from_args(args) == want
    # report JSON
    assert limits_from_dict(limits_to_dict(want)) == want
    # app widgets and URL (the candidate-id list has no widget: the app never sets it)
    if spec.kind != "ids":
        s = state.defaults()
        s[spec.url] = list(_value(spec)) if spec.kind == "in" else _value(spec)
        query = state.query_from_state(s)
        assert spec.url in query
        back = {**state.defaults(), **state.state_from_query({k: v if isinstance(v, list) else [v]
                                                               for k, v in query.items()})}
        assert state.limits_from_state(back) == want


def test_probe_ready_limit_round_trips():
    from advisor.ui import state

    ready = frozenset({"timm:x.y"})
    want = Limits(probe_ready_ids=ready)
    assert limits_from_dict(limits_to_dict(want)) == want
    s = {**state.defaults(), state.PROBE_READY: True}
    back = {**state.defaults(), **state.state_from_query({k: [v] for k, v in state.query_from_state(s).items()})}
    assert state.limits_from_state(back, ready) == want


def test_every_format_is_reachable_from_the_cli():
    parser = build_parser()
    for name in FORMATS:
        args = parser.parse_args(["report", "--preset", "calibrated", "--format", name, "-o", f"r.{name}"])
        assert args.format == name
    report = next(a for a in parser._subparsers._group_actions[0].choices["report"]._actions if a.dest == "format")
    assert tuple(report.choices) == tuple(FORMATS)


def test_every_format_module_renders():
    for fmt in FORMATS.values():
        assert callable(fmt.renderer) and fmt.renderer.__name__ == "render", fmt.name
