"""The coverage matrix as CSV and XLSX: rows are courses, columns instruments.

A cell reads like `T/A mastered 6h`: the kinds of link (letters), the deepest depth reached and
the hours. Text that a spreadsheet would take for a formula (= + - @, tab, CR) is prefixed with
a single quote (spreadsheet injection), in both formats, by the rule the catalogue files use.
"""

import csv
import io
from dataclasses import dataclass
from datetime import datetime

import xlsxwriter

from app.exports import stamp
from app.exports.spreadsheets import neutralise  # the one rule for every spreadsheet we write
from app.models.common import Depth, LinkKind
from app.models.coverage import CoverageMatrix, MatrixCell, MatrixCourse, MatrixInstrument
from app.services.coverage import Cell, Column, Matrix, Row

KIND_LETTER = {
    LinkKind.teaches: "T",
    LinkKind.practises: "P",
    LinkKind.assesses: "A",
    LinkKind.references: "R",
}
DEPTH_VALUE = {Depth.introduced: 1, Depth.reinforced: 2, Depth.mastered: 3}
SCALE = ("#FFF2CC", "#9FC5E8", "#38761D")  # introduced -> mastered, the scale's three colours


def cell_text(cell: MatrixCell | Cell) -> str:
    letters = "/".join(KIND_LETTER[k] for k in cell.kinds)
    return f"{letters} {cell.depth} {cell.hours}h"


@dataclass(frozen=True)
class Grid:
    instruments: list[MatrixInstrument | Column]
    rows: list[tuple[MatrixCourse | Row, list[MatrixCell | Cell | None]]]


def grid(matrix: CoverageMatrix | Matrix, *, used_only: bool = False) -> Grid:
    """The matrix as rows of cells; `used_only` drops instruments no course links to."""
    cells = {(c.course, c.instrument): c for c in matrix.cells}
    used = {c.instrument for c in matrix.cells}
    instruments = [i for i in matrix.instruments if not used_only or i.code in used]
    return Grid(
        instruments,
        [(c, [cells.get((c.code, i.code)) for i in instruments]) for c in matrix.courses],
    )


def chunks(g: Grid, width: int = 8) -> list[Grid]:
    """The grid cut into tables of at most `width` instruments, to fit a landscape page."""
    return [
        Grid(
            g.instruments[start : start + width],
            [(course, cells[start : start + width]) for course, cells in g.rows],
        )
        for start in range(0, len(g.instruments), width)
    ]


def to_csv(matrix: CoverageMatrix | Matrix) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read Cyrillic and Uzbek right."""
    g = grid(matrix)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["course", "title", *(i.code for i in g.instruments)])
    for course, cells in g.rows:
        writer.writerow(
            [neutralise(course.code), neutralise(course.title)]
            + [cell_text(c) if c else "" for c in cells]
        )
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(matrix: CoverageMatrix | Matrix, *, scope: str, generated_at: datetime) -> bytes:
    """Sheets: Coverage (cell text), Depth (1-3 with a colour scale) and Legend."""
    g = grid(matrix)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    book.set_properties(
        {"title": f"Coverage matrix: {scope}", "created": generated_at.replace(tzinfo=None)}
    )
    head = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    for name, value in (("Coverage", cell_text), ("Depth", lambda c: DEPTH_VALUE[c.depth])):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, ["Course", "Title", *(i.code for i in g.instruments)], head)
        for r, (course, cells) in enumerate(g.rows, start=1):
            sheet.write_string(r, 0, neutralise(course.code))
            sheet.write_string(r, 1, neutralise(course.title), wrap)
            for c, cell in enumerate(cells, start=2):
                if cell is not None:
                    sheet.write(r, c, value(cell))
        sheet.freeze_panes(1, 1)
        sheet.set_column(0, 0, 11)
        sheet.set_column(1, 1, 40)
        sheet.set_column(2, max(2, len(g.instruments) + 1), 18 if name == "Coverage" else 9)
        if name == "Depth" and g.rows and g.instruments:
            sheet.conditional_format(
                1,
                2,
                len(g.rows),
                len(g.instruments) + 1,
                {
                    "type": "3_color_scale",
                    "min_type": "num",
                    "min_value": 1,
                    "mid_type": "num",
                    "mid_value": 2,
                    "max_type": "num",
                    "max_value": 3,
                    "min_color": SCALE[0],
                    "mid_color": SCALE[1],
                    "max_color": SCALE[2],
                },
            )
    _legend(book.add_worksheet("Legend"), g, head, wrap, scope, generated_at)
    book.close()
    return buffer.getvalue()


def _legend(sheet, g: Grid, head, wrap, scope: str, generated_at: datetime) -> None:
    lines = [
        ("Coverage matrix", neutralise(scope)),
        ("Generated", stamp(generated_at)),
        ("", ""),
        ("Letters", "Kinds of link"),
        *((letter, kind.value) for kind, letter in KIND_LETTER.items()),
        ("", ""),
        ("Depth", "Deepest depth any link of the cell reaches (Depth sheet: 1-3)"),
        *((str(v), d.value) for d, v in DEPTH_VALUE.items()),
        ("Hours", "Sum of the hours of the cell's links"),
        ("", ""),
        ("Instrument", "Short title"),
        *((i.code, neutralise(i.short_title)) for i in g.instruments),
    ]
    for r, (key, text) in enumerate(lines):
        fmt = head if key in ("Letters", "Depth", "Instrument") else None
        sheet.write_string(r, 0, key, fmt)
        sheet.write_string(r, 1, text, fmt or wrap)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 70)
