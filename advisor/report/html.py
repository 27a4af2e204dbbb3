"""One self-contained HTML file: inline CSS, charts and thumbnails as data: URIs, a CSP that forbids fetching."""

from __future__ import annotations

import base64
import re

import jinja2

from advisor.report import view
from advisor.report.measured import NOTE as MEASURED_NOTE
from advisor.report.model import Report
from advisor.report.probes import help_for
from advisor.report.render import RenderError, render_svg

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

TEMPLATE = """{%- macro table(t, help={}) -%}
<table><thead><tr>{% for c in t[0] %}<th{% if c in help %} title="{{ help[c] }}"{% endif %}>{{ c }}</th>
{%- endfor %}</tr></thead><tbody>
{% for row in t[1] %}<tr>{% for v in row %}<td
{%- if v is number_like %} class="num"{% elif v is model_id %} class="id"{% elif v is long_token %} class="long"
{%- endif %}>{{ v }}</td>
{%- endfor %}</tr>
{% endfor %}</tbody></table>
{%- endmacro -%}
{%- macro figures(cs) -%}
{% for c in cs %}{% if c.uri %}<figure>
<img alt="{{ c.title }}" src="{{ c.uri }}"><figcaption>{{ c.title }}</figcaption></figure>
{% else %}<p class="omitted">{{ c.title }}: {{ c.note }}</p>{% endif %}{% endfor %}
{%- endmacro -%}
<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ r.title }}</title>
<style>
@page{size:A4;margin:14mm 13mm}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;overflow-wrap:break-word;
margin:2em auto;padding:0 1em;color:#1d232b}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #d6dbe1;padding-bottom:.2em;margin-top:1.6em}
h2,h3{break-after:avoid}
.meta{color:#5b6672}.note{background:#f3f6fa;border-left:4px solid #6b8fb3;padding:.5em 1em;white-space:pre-wrap}
table{border-collapse:collapse;margin:.6em 0;font-size:13.5px;max-width:100%}
th,td{border:1px solid #d6dbe1;padding:3px 8px;text-align:left}td.long{overflow-wrap:anywhere}
.id{white-space:nowrap;word-break:keep-all;overflow-wrap:normal}
tr{break-inside:avoid}
th{background:#eef1f5}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.warn{color:#a3262a;font-weight:600}
figure{margin:1em 0;break-inside:avoid}figcaption{color:#5b6672;font-size:13px}.omitted{color:#7a5b00;font-style:italic}
img{max-width:100%;height:auto}
dl.help{font-size:13px;color:#3b4652;margin:.2em 0 1em}dl.help dt{font-weight:600;float:left;margin-right:.4em}
dl.help dd{margin:0 0 .2em}
code{overflow-wrap:anywhere}
.thumbs{display:flex;flex-wrap:wrap;gap:1em}.thumbs figure{margin:0;max-width:180px}
.thumbs figcaption{overflow-wrap:anywhere}
@media print{body{margin:0;padding:0;max-width:none;font-size:11pt}table{font-size:9pt}figure img{max-height:120mm}}
</style></head><body>
<h1>{{ r.title }}</h1>
<p class="meta">{{ header }}</p>
{% if r.notes.strip() %}<h2>Note</h2><div class="note">{{ r.notes }}</div>{% endif %}
<h2>Your needs</h2>{{ table(needs) }}
<h2>Hard limits</h2>
{% if limits %}<ul>{% for x in limits %}<li>{{ x }}</li>{% endfor %}</ul>{% else %}<p>none</p>{% endif %}
<p class="meta">Settings: {{ settings }}.</p>
<h2>Shortlist</h2>
<p>{{ r.n_ranked }} models ranked of {{ r.n_candidates }} passing the limits.</p>
{{ table(shortlist) }}
<p class="meta">{{ stability }}</p>
{% for n in r.ranking_notes %}<p class="meta">note: {{ n }}</p>{% endfor %}
{% if r.reasons %}<h2>Why the top picks</h2><ul>
{% for m, t in r.reasons.items() %}<li><b class="id">{{ m }}</b>: {{ t }}</li>{% endfor %}</ul>{% endif %}
{% if r.head_to_head %}<h2>Head-to-head of the top two</h2><p>{{ r.head_to_head.text }}</p>{{ table(h2h) }}{% endif %}
{% if charts %}<h2>Trade-offs</h2>
{{ figures(charts) }}{% endif %}
{% for t in measured_tables %}<h2>{{ t.title }}</h2><p>{{ measured_note }}</p>{{ table(t.table) }}
{% if t.more %}<p class="meta">{{ t.more }} more rows in the JSON report.</p>{% endif %}{% endfor %}
{% for t in speed_tables %}<h2>{{ t.title }}</h2>{{ table(t.table) }}{% endfor %}
{% if images or probe_tables or has_probe or probe_charts %}<h2>Probe results</h2>
{% if images %}<div class="thumbs">{% for im in images %}<figure>
{% if im.uri %}<img alt="thumbnail of image {{ loop.index }}" src="{{ im.uri }}">
{% else %}<p class="omitted">{{ im.note }}</p>{% endif %}
<figcaption>image {{ loop.index }}: {{ im.name }}</figcaption></figure>{% endfor %}</div>{% endif %}
{% for t in probe_tables %}<h3>{{ t.title }}</h3>{{ table(t.table, t.help) }}
{% if t.help %}<dl class="help">{% for c, h in t.help.items() %}<dt>{{ c }}:</dt><dd>{{ h }}</dd>{% endfor %}</dl>
{% endif %}
{% if t.more %}<p class="meta">{{ t.more }} more rows in the JSON report.</p>{% endif %}{% endfor %}
{{ figures(probe_charts) }}{% endif %}
<h2>Data sources</h2>
{% if non_commercial %}
<p class="warn">Some data used here is licensed for non-commercial use only (marked NON-COMMERCIAL).</p>{% endif %}
{% if sources[1] %}{{ table(sources) }}{% else %}<p>No source data was used.</p>{% endif %}
<hr><p class="meta">Restore these needs and limits with <code>advisor rank --from report.json</code> (JSON format).</p>
</body></html>
"""

_NUMBER = re.compile(r"^([-+]?\d[\d,]*(\.\d+)?(e[-+]?\d+)?%?|–)$")
_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_LONG_TOKEN = re.compile(r"\S{28,}")  # a word this long may be broken anywhere, so no table outgrows the page
_ENV.tests["number_like"] = lambda v: isinstance(v, str) and bool(_NUMBER.match(v))
_ENV.tests["long_token"] = lambda v: isinstance(v, str) and bool(_LONG_TOKEN.search(v))
# A model id ('timm:convnext_base.fb_in22k_ft_in1k') is never broken: copied from a PDF it must stay whole.
_MODEL_ID = re.compile(r"^[a-z][a-z0-9_]*:[^\s:]{1,120}$")
_ENV.tests["model_id"] = lambda v: isinstance(v, str) and bool(_MODEL_ID.match(v))
_TEMPLATE = _ENV.from_string(TEMPLATE)


def _data_uri(mime: str, blob: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(blob).decode('ascii')}"


def to_html(report: Report) -> str:
    """Every piece of text goes through jinja2 autoescape; images are data: URIs (nothing is fetched)."""
    r = report
    charts: dict[bool, list[dict]] = {False: [], True: []}  # probe charts go to the probe section
    for c in r.charts:
        uri, note = None, c.note
        if c.spec is not None:
            try:
                uri = _data_uri("image/svg+xml", render_svg(c.spec).encode("utf-8"))
            except RenderError as exc:
                note = f"chart omitted: {exc}"
        charts[c.name.startswith("probe_")].append({"title": c.title, "uri": uri, "note": note})
    images = [{"name": im.name, "note": im.note, "uri": _data_uri("image/png", im.png) if im.png else None}
              for im in r.images]
    probe = []
    for t in r.probe_tables:
        cols, rows, more = view.table_rows(t)
        probe.append({"title": t.title, "table": (cols, rows), "more": more, "help": dict(help_for(cols))})
    return _TEMPLATE.render(
        r=r, csp=CSP, header=view.header_line(r), needs=view.needs_table(r), limits=view.limits_lines(r),
        settings=view.settings_line(r), shortlist=view.shortlist_table(r), stability=view.stability_sentence(r),
        h2h=view.h2h_table(r), charts=charts[False],
        probe_charts=charts[True],
        images=images, probe_tables=probe, has_probe=r.probe_results is not None,
        speed_tables=[{"title": t.title, "table": view.table_rows(t)[:2]} for t in r.speed_tables],
        measured_tables=[{"title": t.title, "table": view.table_rows(t)[:2], "more": view.table_rows(t)[2]}
                         for t in r.measured_tables], measured_note=MEASURED_NOTE,
        non_commercial=view.has_non_commercial(r), sources=view.sources_table(r))


def render(report: Report, assets: str | None = None) -> tuple[bytes, dict[str, bytes]]:
    """FORMATS entry: one self-contained file (charts and thumbnails inline)."""
    return to_html(report).encode("utf-8"), {}
