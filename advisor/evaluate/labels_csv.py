"""A `path,label` CSV read as spreadsheets write it, within limits, every bad row said and counted.

Why: Excel's "CSV UTF-8" starts with a byte-order mark (the header was then misread as "needs a header"),
other exports are Latin-1 or UTF-16; a 128 KB field raised csv.Error; a row without a label, a label of
spaces or with a NUL became a class; 100,000 rows naming two images took 8 GB; a million bad rows made a
million-line message. Here: the encoding is recognised (BOM, UTF-16 without BOM, Latin-1 fallback said in
a note), rows are capped, a bad row is skipped with its line number, and the list of problems is capped.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field

from advisor.errors import InvalidRequestError

MAX_CSV_BYTES = 64 * 2**20
MAX_ROWS = 100_000  # images per evaluation; a larger set is split or sampled by the user
MAX_FIELD_CHARS = 4096  # a path or label longer than this is refused (a real one is a few dozen characters)
MAX_PROBLEMS = 20  # problems listed one by one; the rest are counted


@dataclass
class CsvRows:
    """The rows kept (line number, path, label), the problems found and a note on the encoding."""

    rows: list[tuple[int, str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    encoding_note: str = ""


def decode(data: bytes, name: str) -> tuple[str, str]:
    """(text, note): UTF-8 with or without BOM, UTF-16/32 by BOM or by its NUL pattern, else Latin-1."""
    for bom, enc in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                     (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                     (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(enc), ""
            except UnicodeDecodeError as e:
                raise InvalidRequestError(f"{name}: starts with a {enc} byte-order mark but is not {enc} ({e.reason} "
                                          f"at byte {e.start})") from None
    head = data[:4096]
    if len(head) >= 4 and head.count(0) >= len(head) // 4:  # UTF-16 without a BOM: every other byte is NUL
        enc = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        try:
            return data.decode(enc), f"{name} read as {enc.upper()}"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError:
        return data.decode("latin-1"), f"{name} is not UTF-8: read as Latin-1"


def has_labels_header(data: bytes) -> bool:
    """Does the CSV's first line name the columns path and label (any encoding `decode` reads)?"""
    try:
        text, _ = decode(data[:65536], "csv")
        header = next(csv.reader(io.StringIO(text.splitlines()[0] if text else "")), [])
    except (InvalidRequestError, csv.Error, IndexError):
        return False
    return {"path", "label"} <= {h.strip().lower() for h in header}


def capped(problems: list[str], total: int, what: str = "", limit: int = MAX_PROBLEMS) -> list[str]:
    """The first `limit` problems and one line counting the rest ("and N more ...")."""
    rest = f"and {total - limit:,} more" + (f" {what}" if what else "")
    return problems[:limit] + ([rest] if total > limit else [])


def _field_problem(value: str, what: str) -> str:
    if "\x00" in value:
        return f"its {what} contains a NUL character"
    if len(value) > MAX_FIELD_CHARS:
        return f"its {what} is {len(value):,} characters long (at most {MAX_FIELD_CHARS:,})"
    if not value.strip():
        return f"no {what}" if not value else f"its {what} is only whitespace"
    return ""


def read_rows(data: bytes, name: str, max_rows: int = MAX_ROWS) -> CsvRows:
    """Parse a `path,label` CSV; raises InvalidRequestError for a file that is not one, or too many rows."""
    text, note = decode(data, name)
    out = CsvRows(encoding_note=note)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as e:
        raise InvalidRequestError(f"{name}: the header line is not CSV ({e})") from None
    if not {"path", "label"} <= set(header):
        raise InvalidRequestError(f"{name}: a CSV needs a header with the columns path,label "
                                  f"(found {', '.join(h[:40] for h in header[:5]) or 'an empty first line'})")
    ip, il = header.index("path"), header.index("label")
    bad = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:  # a field over the csv module's limit (128 KB), a NUL in old Pythons
            bad += 1
            if len(out.problems) < MAX_PROBLEMS:
                out.problems.append(f"{name} line {reader.line_num}: skipped, not readable as CSV ({e})")
            continue
        if not any(c.strip() for c in row):
            continue
        if len(out.rows) >= max_rows:
            raise InvalidRequestError(f"{name}: more than {max_rows:,} rows; at most {max_rows:,} images are "
                                      "evaluated at once: split the CSV")
        path = row[ip] if ip < len(row) else ""
        label = row[il] if il < len(row) else ""
        why = _field_problem(path, "path") or _field_problem(label, "label")
        if why:
            bad += 1
            if len(out.problems) < MAX_PROBLEMS:
                out.problems.append(f"{name} line {reader.line_num}: skipped, {why}")
            continue
        out.rows.append((reader.line_num, path.strip(), label.strip()))
    out.problems = capped(out.problems, bad, f"rows of {name} skipped")
    return out
