"""Spreadsheet layouts of the catalogue, as CSV (UTF-8) or XLSX, written and read the same way.

Courses: one row per course, keyed by `code`. List cells hold one entry per line:
  outcomes       `bloom: text`               e.g. `understand: Explain the duty to ...`
  links          `target kind depth hours`   e.g. `iccpr-1966/art-9 assesses mastered 2`
  prerequisites, topics, references: one per line.
Instruments: one row per provision, keyed by `code` (the instrument) and `provision_key`; the
instrument's own cells are repeated on each of its rows (an import takes them from the first
row and refuses later rows that disagree). An instrument without provisions has one row with
empty provision cells. Rows keep the provisions' order. List cells: themes, aliases, and
participation as `COUNTRY status [date]` lines, e.g. `UZ acceded 1995-09-28`.

A cell that begins with = + - @ (or a tab, carriage return or quote) is written with a leading
`'` so that no spreadsheet runs it as a formula; reading strips that one quote again.
On import a column left out keeps the stored value; unknown columns are refused. The format is
told by the content (an XLSX file is a zip); CSV cells may be separated by `,`, `;` or tabs.
"""

import csv
import datetime as dt
import io
import re
import warnings
import zipfile
from typing import Any

import xlsxwriter

from app.errors import field_error

COURSE_COLUMNS = [
    "code",
    "title",
    "domain",
    "level",
    "status",
    "restricted",
    "lecture_hours",
    "seminar_hours",
    "practical_hours",
    "self_study_hours",
    "credits",
    "language_of_instruction",
    "target_language",
    "cefr_level",
    "description",
    "outcomes",
    "topics",
    "assessment",
    "references",
    "prerequisites",
    "links",
]
HOURS = {"lecture_hours", "seminar_hours", "practical_hours", "self_study_hours"}
INSTRUMENT_COLUMNS = [
    "code",
    "title",
    "short_title",
    "kind",
    "body",
    "place",
    "adopted_on",
    "entry_into_force_on",
    "reference",
    "themes",
    "aliases",
    "source_url",
    "summary",
    "amends",
    "supplements",
    "participation",
]
PROVISION_COLUMNS = ["provision_key", "provision_number", "provision_heading", "provision_summary"]
WIDE = {"description", "outcomes", "topics", "assessment", "references", "links", "summary"}
WIDE |= {"title", "participation", "provision_heading", "provision_summary", "aliases"}
MAX_ROWS = 20_000
RISKY = ("=", "+", "-", "@", "\t", "\r", "'")
BLOOM_LINE = re.compile(r"^(remember|understand|apply|analyse|evaluate|create)\s*:\s*(.*)$")


class FileError(ValueError):
    """The upload is not a readable table (nothing row-specific to report)."""


# ---- cells --------------------------------------------------------------------------------


def neutralise(value: str) -> str:
    return "'" + value if value.startswith(RISKY) else value


def unneutralise(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:2] in RISKY else value


def cell_text(value: Any) -> str | None:
    """A cell as text; empty cells are None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _lines(value: Any) -> list[str]:
    text = cell_text(value)
    return [line.strip() for line in text.splitlines() if line.strip()] if text else []


def _integer(value: Any) -> int | str | None:
    """An integer, or the text as given (validation then names the field)."""
    text = cell_text(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else text


def _boolean(value: Any) -> bool | str | None:
    text = cell_text(value)
    if text is None:
        return None
    return {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(
        text.lower(), text
    )


def _number_out(value: float | int) -> float | int:
    return int(value) if float(value).is_integer() else value


# ---- courses ------------------------------------------------------------------------------


def course_row(doc: dict[str, Any]) -> dict[str, Any]:
    """A course (CourseIn as JSON) as one row."""
    hours = doc.get("hours") or {}
    return {
        "code": doc["code"],
        "title": doc["title"],
        "domain": doc["domain"],
        "level": doc["level"],
        "status": doc["status"],
        "restricted": "true" if doc.get("restricted") else "false",
        **{
            f"{k}_hours": hours.get(k, 0) for k in ("lecture", "seminar", "practical", "self_study")
        },
        "credits": _number_out(doc.get("credits") or 0),
        "language_of_instruction": doc.get("language_of_instruction") or "",
        "target_language": doc.get("target_language") or "",
        "cefr_level": doc.get("cefr_level") or "",
        "description": doc.get("description") or "",
        "outcomes": "\n".join(f"{o['bloom']}: {o['text']}" for o in doc.get("outcomes") or []),
        "topics": "\n".join(doc.get("topics") or []),
        "assessment": doc.get("assessment") or "",
        "references": "\n".join(doc.get("references") or []),
        "prerequisites": "\n".join(doc.get("prerequisites") or []),
        "links": "\n".join(
            f"{lk['target']} {lk['kind']} {lk['depth']} {lk['hours']}"
            for lk in doc.get("links") or []
        ),
    }


def parse_course(cells: dict[str, Any]) -> tuple[dict[str, Any], list[dict]]:
    """The fields of the columns present, shaped like CourseIn, and the cell errors found."""
    out: dict[str, Any] = {}
    errors: list[dict] = []
    hours: dict[str, Any] = {}
    for name, value in cells.items():
        if name in HOURS:
            number = _integer(value)
            hours[name.removesuffix("_hours")] = 0 if number is None else number
        elif name == "restricted":
            out[name] = _boolean(value) or False
        elif name == "credits":
            out[name] = cell_text(value) or 0
        elif name in ("description", "assessment"):
            out[name] = cell_text(value) or ""
        elif name in ("topics", "references", "prerequisites"):
            out[name] = _lines(value) if name != "prerequisites" else _codes(value)
        elif name == "outcomes":
            out[name] = _outcomes(value, errors)
        elif name == "links":
            out[name] = _links(value, errors)
        else:
            out[name] = cell_text(value)
    if hours:
        out["hours"] = hours
    return out, errors


def _codes(value: Any) -> list[str]:
    return [c for c in re.split(r"[\s,;]+", cell_text(value) or "") if c]


def _outcomes(value: Any, errors: list[dict]) -> list[dict[str, str]]:
    outcomes: list[dict[str, str]] = []
    for line in (cell_text(value) or "").splitlines():
        match = BLOOM_LINE.match(line.strip())
        if match:
            outcomes.append({"bloom": match.group(1), "text": match.group(2)})
        elif outcomes:  # a line break inside an outcome's text
            outcomes[-1]["text"] += "\n" + line
        elif line.strip():
            errors.append(
                field_error(
                    ["outcomes"], f"{line.strip()[:40]!r}: write each outcome as 'bloom: text'"
                )
            )
    return outcomes


def _links(value: Any, errors: list[dict]) -> list[dict[str, Any]]:
    links = []
    for n, line in enumerate(_lines(value)):
        parts = line.split()
        if len(parts) not in (3, 4):
            errors.append(field_error(["links", n], f"{line!r}: write 'target kind depth [hours]'"))
            continue
        target, kind, depth, *rest = parts
        hours = _integer(rest[0]) if rest else 0
        links.append({"target": target, "kind": kind, "depth": depth, "hours": hours})
    return links


# ---- instruments --------------------------------------------------------------------------


def instrument_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """An instrument (InstrumentIn as JSON) as one row per provision."""
    own = {
        "code": doc["code"],
        "title": doc["title"],
        "short_title": doc["short_title"],
        "kind": doc["kind"],
        "body": doc["body"],
        "place": doc.get("place") or "",
        "adopted_on": doc.get("adopted_on") or "",
        "entry_into_force_on": doc.get("entry_into_force_on") or "",
        "reference": doc.get("reference") or "",
        "themes": "\n".join(doc.get("themes") or []),
        "aliases": "\n".join(doc.get("aliases") or []),
        "source_url": doc.get("source_url") or "",
        "summary": doc.get("summary") or "",
        "amends": doc.get("amends") or "",
        "supplements": doc.get("supplements") or "",
        "participation": "\n".join(
            " ".join(x for x in (p["country"], p["status"], p.get("date") or "") if x)
            for p in doc.get("participation") or []
        ),
    }
    provisions = doc.get("provisions") or []
    if not provisions:
        return [{**own, **dict.fromkeys(PROVISION_COLUMNS, "")}]
    return [
        {
            **own,
            "provision_key": p["key"],
            "provision_number": p["number"],
            "provision_heading": p["heading"],
            "provision_summary": p.get("summary") or "",
        }
        for p in provisions
    ]


def parse_instrument(
    cells: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any] | None, list[dict]]:
    """The instrument fields of the columns present, the row's provision (if any), cell errors."""
    out: dict[str, Any] = {}
    errors: list[dict] = []
    for name, value in cells.items():
        if name in PROVISION_COLUMNS:
            continue
        if name in ("themes", "aliases"):
            out[name] = _lines(value)
        elif name == "participation":
            out[name] = _participation(value, errors)
        elif name == "summary":
            out[name] = cell_text(value) or ""
        else:
            out[name] = cell_text(value)
    provision = None
    given = {k: cell_text(cells.get(k)) for k in PROVISION_COLUMNS if k in cells}
    if any(given.values()):
        provision = {
            "number": given.get("provision_number"),
            "heading": given.get("provision_heading"),
            "summary": given.get("provision_summary") or "",
        }
        if given.get("provision_key"):
            provision["key"] = given["provision_key"]
    return out, provision, errors


def _participation(value: Any, errors: list[dict]) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(_lines(value)):
        parts = line.split()
        if len(parts) not in (2, 3):
            errors.append(
                field_error(["participation", n], f"{line!r}: write 'COUNTRY status [date]'")
            )
            continue
        out.append(
            {"country": parts[0], "status": parts[1], "date": parts[2] if len(parts) > 2 else None}
        )
    return out


# ---- files --------------------------------------------------------------------------------


def _cell_out(value: Any) -> Any:
    return neutralise(value) if isinstance(value, str) else value


def write_csv(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that spreadsheet programs read Cyrillic correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else _cell_out(row.get(c)) for c in columns])
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(sheet: str, columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    head = book.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    top = book.add_format({"valign": "top"})
    ws = book.add_worksheet(sheet)
    for c, name in enumerate(columns):
        ws.write_string(0, c, name, head)
        ws.set_column(c, c, 48 if name in WIDE else 16, wrap if name in WIDE else top)
    for r, row in enumerate(rows, start=1):
        for c, name in enumerate(columns):
            value = row.get(name)
            if value is None or value == "":
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, _cell_out(str(value)))
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
    book.close()
    return buffer.getvalue()


def read_table(content: bytes) -> tuple[str, list[str], list[tuple[int, dict[str, Any]]]]:
    """(format, columns, [(row number as a spreadsheet shows it, {column: cell})]) of an upload."""
    if content.startswith(b"PK\x03\x04"):
        fmt, grid = "xlsx", _xlsx_grid(content)
    else:
        fmt, grid = "csv", _csv_grid(content)
    if not grid:
        raise FileError("The file is empty: the first row must name the columns.")
    columns = [(cell_text(c) or "").lower() for c in grid[0]]
    while columns and not columns[-1]:
        columns.pop()
    if not columns or "" in columns:
        raise FileError("Every column in the first row needs a name.")
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise FileError(f"Column(s) named twice: {', '.join(dupes)}.")
    rows = []
    for number, values in enumerate(grid[1:], start=2):
        if len(values) > len(columns) and any(cell_text(v) for v in values[len(columns) :]):
            raise FileError(f"Row {number} has cells beyond the named columns.")
        cells = {
            name: (unneutralise(v) if isinstance(v, str) else v)
            for name, v in zip(columns, values, strict=False)
        }
        if any(cell_text(v) is not None for v in cells.values()):
            rows.append((number, cells))
    if len(rows) > MAX_ROWS:
        raise FileError(f"At most {MAX_ROWS} rows per file.")
    return fmt, columns, rows


def _csv_grid(content: bytes) -> list[list[Any]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileError("A CSV file must be UTF-8 (or upload the XLSX file).") from None
    # Spreadsheet programs in many locales save with ";" (or tabs): the header line tells.
    header = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header.count)
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise FileError(f"Not a readable CSV file: {exc}.") from None


def _xlsx_grid(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # style quirks of files from other programs
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
            try:
                sheet = book.worksheets[0]
                grid = []
                for n, row in enumerate(sheet.iter_rows(values_only=True)):
                    if n > MAX_ROWS + 1:
                        raise FileError(f"At most {MAX_ROWS} rows per file.")
                    grid.append(list(row))
            finally:
                book.close()
    except FileError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError) as exc:
        raise FileError(f"Not a readable XLSX workbook ({type(exc).__name__}).") from None
    return grid
