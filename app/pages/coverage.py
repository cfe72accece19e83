"""The coverage heat-map: courses (rows) against instruments (columns), and the gaps."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app.db import SessionDep
from app.errors import Invalid, field_error
from app.i18n import locale_of, translations
from app.models.common import CourseStatus, Domain, LinkKind, Theme
from app.pages.render import is_htmx, render
from app.security import CatalogRead
from app.services import coverage

router = APIRouter(tags=["pages"], include_in_schema=False)

REGION = "coverage-matrix"  # id of the element the filter form swaps
LETTERS = {
    LinkKind.teaches: "T",
    LinkKind.practises: "P",
    LinkKind.assesses: "A",
    LinkKind.references: "R",
}
# A browser builds a table of 200 x 300 cells in about a second; 2,000 x 300 takes many.
PAGE_SIZE = 100
GAPS_SHOWN = 100
DEPTH_MARKS = {"introduced": "1", "reinforced": "2", "mastered": "3"}
COVERING = {LinkKind.teaches, LinkKind.assesses}


@dataclass(frozen=True, slots=True)
class Cell:
    letters: str  # "TA": the link kinds, so a cell never relies on colour alone
    depth: str
    mark: str
    covers: bool  # taught or assessed, not only practised or referenced
    text: str  # "HR-101 teaches/assesses ccleo-1979, mastered, 6 h, 3 provisions"


def _choice(enum: type[StrEnum], name: str, value: str | None) -> StrEnum | None:
    """An empty select option means "any"; anything outside the vocabulary is refused."""
    if not value:
        return None
    try:
        return enum(value)
    except ValueError:
        raise Invalid(
            f"Unknown {name} {value!r}.", errors=[field_error([name], "not a known value")]
        ) from None


def rows_of(m: coverage.Matrix, t) -> list[tuple[coverage.Row, list[Cell | None]]]:
    """Each course of the (page's) matrix with its cells in column order (None where it has no
    link), in one pass."""
    lookup: dict[str, dict[str, Cell]] = {}
    for c in m.cells:
        text = t.gettext("%(course)s %(kinds)s %(instrument)s, %(depth)s, %(hours)s h") % {
            "course": c.course,
            "kinds": "/".join(t.gettext(k.value) for k in c.kinds),
            "instrument": c.instrument,
            "depth": t.gettext(c.depth.value),
            "hours": c.hours,
        }
        if c.provisions:
            text += ", " + t.ngettext("%(num)d provision", "%(num)d provisions", c.provisions) % {
                "num": c.provisions
            }
        lookup.setdefault(c.course, {})[c.instrument] = Cell(
            letters="".join(LETTERS[k] for k in c.kinds),
            depth=c.depth.value,
            mark=DEPTH_MARKS[c.depth.value],
            covers=not COVERING.isdisjoint(c.kinds),
            text=text,
        )
    codes = [i.code for i in m.instruments]
    rows = []
    for course in m.courses:
        row = lookup.get(course.code, {})
        rows.append((course, [row.get(code) for code in codes]))
    return rows


@router.get("/coverage", response_class=HTMLResponse)
def coverage_page(
    request: Request,
    principal: CatalogRead,
    session: SessionDep,
    domain: Annotated[str | None, Query()] = None,
    theme: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
):
    filters = {
        "domain": _choice(Domain, "domain", domain),
        "theme": _choice(Theme, "theme", theme),
        "status": _choice(CourseStatus, "status", status),
    }
    public_only = not principal.sees_all_courses
    total = coverage.count_courses(
        session, domain=filters["domain"], status=filters["status"], public_only=public_only
    )
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    first = (page - 1) * PAGE_SIZE
    m = coverage.fold(
        session, **filters, public_only=public_only, offset=first, limit=PAGE_SIZE, used_only=True
    )
    gaps, gap_total = coverage.uncovered(
        session, public_only=public_only, theme=filters["theme"], limit=GAPS_SHOWN
    )
    gap_codes = coverage.uncovered_codes(
        session, [i.code for i in m.instruments], public_only=public_only
    )
    query = {k: v.value for k, v in filters.items() if v is not None}
    # htmx history restores need the whole page; only the filter form asks for the region alone.
    restoring = request.headers.get("hx-history-restore-request") == "true"
    partial = is_htmx(request) and not restoring and request.headers.get("hx-target") == REGION
    response = render(
        request,
        "coverage.html",
        {
            "htmx": is_htmx(request) and not restoring,
            "partial": partial,
            "region": REGION,
            "filters": filters,
            "public_only": public_only,
            "matrix": m,
            "rows": rows_of(m, translations(locale_of(request))),
            "pager": {
                "page": page,
                "pages": pages,
                "first": first + 1,
                "last": first + len(m.courses),
                "total": total,
                "query": query,
            },
            "gap_codes": gap_codes,
            "gap_total": gap_total,
            "gaps": gaps,
            "domains": list(Domain),
            "themes": list(Theme),
            "statuses": list(CourseStatus),
        },
    )
    response.headers["Vary"] += ", HX-Target, HX-History-Restore-Request"
    return response
