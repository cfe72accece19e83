"""Instrument registry pages: the list grouped by theme, and one instrument with its coverage."""

import re
from typing import Annotated

from babel import Locale
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from app.db import SessionDep
from app.i18n import locale_of, translations
from app.models.common import Depth, InstrumentKind, LinkKind, Theme
from app.models.instruments import CoveringCourse, Instrument, InstrumentSummary
from app.pages.catalogue import choice, wants_results
from app.pages.render import render
from app.security import CatalogRead
from app.services import instruments

router = APIRouter(tags=["pages"], include_in_schema=False)

# The registry is small, and grouping by theme needs all of it on one page.
LIMIT = 500
Filter = Annotated[str, Query(max_length=64)]


def load_instrument(session: SessionDep, code: Annotated[str, Path(max_length=64)]) -> Instrument:
    return instruments.get(session, code)


InstrumentDep = Annotated[Instrument, Depends(load_instrument)]


def by_theme(items: list[InstrumentSummary], theme: str) -> list[tuple[str, list]]:
    """Each instrument under each of its themes (only the chosen one when filtered), in Theme order."""
    groups: dict[str, list[InstrumentSummary]] = {t.value: [] for t in Theme}
    for item in items:
        for t in item.themes or [""]:
            if not theme or t == theme:
                groups.setdefault(t, []).append(item)
    return [(t, members) for t, members in groups.items() if members]


@router.get("/instruments", response_class=HTMLResponse)
def instrument_list(
    principal: CatalogRead,
    request: Request,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    theme: Filter = "",
    kind: Filter = "",
    party: Filter = "",
):
    errors = {}
    country = party.strip().upper()
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        errors["party"] = translations(locale_of(request)).gettext(
            "Use a two-letter ISO country code, such as UZ."
        )
        country = ""
    filters = {
        "q": q.strip(),
        "theme": choice(theme, Theme),
        "kind": choice(kind, InstrumentKind),
        "party": party.strip(),
    }
    items, total = instruments.list_instruments(
        session,
        theme=filters["theme"] or None,
        kind=filters["kind"] or None,
        party=country or None,
        q=filters["q"] or None,
        limit=LIMIT,
    )
    ctx = {
        "groups": by_theme(items, filters["theme"]),
        "total": total,
        "shown": len(items),
        "filters": filters,
        "errors": errors,
    }
    status = 422 if errors else 200
    if wants_results(request):
        return render(request, "instruments/_results.html", ctx, status=status)
    ctx |= {"htmx": False, "themes": list(Theme), "kinds": list(InstrumentKind)}
    return render(request, "instruments/list.html", ctx, status=status)


PER_CELL = 10  # courses listed in one provision x kind cell; the rest are counted
COURSE_ROWS = 100  # rows of the linked-courses table; the catalogue filter lists them all


def provision_rows(provisions: list, kinds: list[LinkKind]) -> list[tuple]:
    """Each provision with, per kind, the first PER_CELL covering courses and how many more."""
    rows = []
    for p in provisions:
        by_kind: dict[str, list[CoveringCourse]] = {k.value: [] for k in kinds}
        for c in p.covered_by:
            by_kind[c.kind].append(c)
        rows.append(
            (p, [(shown[:PER_CELL], max(0, len(shown) - PER_CELL)) for shown in by_kind.values()])
        )
    return rows


DEPTH_RANK = {d.value: n for n, d in enumerate(Depth)}


def by_course(links: list[CoveringCourse]) -> list[dict]:
    """One row per course: the kinds of its links to the instrument, deepest depth, total hours."""
    rows: dict[str, dict] = {}
    for link in links:
        row = rows.get(link.course_code)
        if row is None:
            row = rows[link.course_code] = {
                "code": link.course_code,
                "title": link.course_title,
                "status": link.course_status,
                "kinds": set(),
                "depth": Depth.introduced,
                "hours": 0,
            }
        row["kinds"].add(link.kind)
        if DEPTH_RANK[link.depth] > DEPTH_RANK[row["depth"]]:
            row["depth"] = Depth(link.depth)
        row["hours"] += link.hours
    for row in rows.values():
        row["kinds"] = [k for k in LinkKind if k in row["kinds"]]
    return list(rows.values())


@router.get("/instruments/{code}", response_class=HTMLResponse)
def instrument_detail(
    principal: CatalogRead, request: Request, session: SessionDep, instrument: InstrumentDep
):
    read = instruments.detail(session, instrument, public_only=not principal.sees_all_courses)
    territories = Locale.parse(locale_of(request)).territories
    source = (
        read.source_url if (read.source_url or "").startswith(("https://", "http://")) else None
    )
    courses = by_course(read.courses)
    ctx = {
        "instrument": read,
        "courses": courses[:COURSE_ROWS],
        "course_total": len(courses),
        "provision_rows": provision_rows(read.provisions, list(LinkKind)),
        "kinds": list(LinkKind),
        "uncovered": sum(1 for p in read.provisions if not p.covered_by),
        "source_url": source,
        "country_name": lambda code: territories.get(code, code),
    }
    return render(request, "instruments/detail.html", ctx)
