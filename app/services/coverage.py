"""Coverage of instruments by courses: the course x instrument matrix and the gap report."""

from dataclasses import dataclass
from typing import NamedTuple

import orjson
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.models.common import CourseStatus, Depth, Domain, LinkKind
from app.models.courses import Course, CourseLink
from app.models.coverage import (
    CoverageMatrix,
    GapInstrument,
    GapProvision,
    GapReport,
)
from app.models.instruments import Instrument, InstrumentTheme, Participation, Provision
from app.models.plans import PlanItem
from app.services.courses import public_course
from app.services.instruments import themes_of

KIND_ORDER = list(LinkKind)
COVERING = (LinkKind.teaches, LinkKind.assesses)


KIND_BIT = {kind: 1 << n for n, kind in enumerate(KIND_ORDER)}
KINDS_OF_MASK = [
    [k for k in KIND_ORDER if mask & KIND_BIT[k]] for mask in range(1 << len(KIND_ORDER))
]
DEPTHS = list(Depth)
DEPTH_RANK = {d.value: n for n, d in enumerate(DEPTHS)}


class Row(NamedTuple):
    """A course of the matrix (the fields of MatrixCourse)."""

    code: str
    title: str
    domain: Domain
    status: CourseStatus


class Column(NamedTuple):
    """An instrument of the matrix (the fields of MatrixInstrument)."""

    code: str
    short_title: str
    themes: list[str]


class Cell(NamedTuple):
    """One course x instrument cell (the fields of MatrixCell)."""

    course: str
    instrument: str
    kinds: list[LinkKind]
    depth: Depth
    hours: int
    provisions: int


@dataclass(frozen=True)
class Matrix:
    """The folded matrix as plain tuples: cheap to build for thousands of courses, and written
    as JSON without a model per cell. `model()` gives the validated CoverageMatrix."""

    courses: list[Row]
    instruments: list[Column]
    cells: list[Cell]

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                name: [dict(zip(kind._fields, t, strict=True)) for t in getattr(self, name)]
                for name, kind in (("courses", Row), ("instruments", Column), ("cells", Cell))
            }
        )

    def model(self) -> CoverageMatrix:
        return CoverageMatrix.model_validate_json(self.to_json())


def fold(
    session: Session,
    *,
    domain: str | None = None,
    theme: str | None = None,
    status: str | None = None,
    plan_id: int | None = None,
    public_only: bool = False,
    offset: int = 0,
    limit: int | None = None,
    used_only: bool = False,
) -> Matrix:
    """Every course (of a plan, if given; or one page of them) against every instrument (or,
    with `used_only`, those the courses link to), folded per cell: four statements whatever
    the size."""
    courses_stmt = select(Course.id, Course.code, Course.title, Course.domain, Course.status)
    if plan_id is not None:
        courses_stmt = courses_stmt.where(
            col(Course.id).in_(select(PlanItem.course_id).where(PlanItem.plan_id == plan_id))
        )
    if domain:
        courses_stmt = courses_stmt.where(Course.domain == domain)
    if public_only:
        courses_stmt = courses_stmt.where(public_course())
    if status:
        courses_stmt = courses_stmt.where(Course.status == status)
    courses_stmt = courses_stmt.order_by(Course.code)
    if offset or limit is not None:
        courses_stmt = courses_stmt.offset(offset).limit(limit)
    instruments_stmt = select(Instrument.id, Instrument.code, Instrument.short_title)
    if theme:
        instruments_stmt = instruments_stmt.where(
            col(Instrument.id).in_(
                select(InstrumentTheme.instrument_id).where(InstrumentTheme.theme == theme)
            )
        )
    course_ids = courses_stmt.with_only_columns(Course.id).subquery()
    if used_only:  # only the instruments these courses link to (the page's columns)
        instruments_stmt = instruments_stmt.where(
            col(Instrument.id).in_(
                select(CourseLink.instrument_id).where(
                    col(CourseLink.course_id).in_(select(course_ids.c.id))
                )
            )
        )
    courses = session.exec(courses_stmt).all()
    instruments = session.exec(
        instruments_stmt.order_by(col(Instrument.adopted_on).asc().nulls_last(), Instrument.code)
    ).all()
    links = session.exec(
        select(
            CourseLink.course_id,
            CourseLink.instrument_id,
            CourseLink.provision_id,
            CourseLink.kind,
            CourseLink.depth,
            CourseLink.hours,
        )
        .where(col(CourseLink.course_id).in_(select(course_ids.c.id)))
        .where(col(CourseLink.instrument_id).in_(instruments_stmt.with_only_columns(Instrument.id)))
    ).all()
    # Folded here rather than by GROUP BY: one pass over the link rows with plain lookups is
    # faster than SQLite's CASE aggregates, and the same on both databases.
    folded: dict[int, dict[int, list]] = {}
    for course_id, instrument_id, provision_id, kind, depth, hours in links:
        row = folded.setdefault(course_id, {})
        cell = row.get(instrument_id)
        if cell is None:
            cell = row[instrument_id] = [0, 0, 0, set()]
        cell[0] |= KIND_BIT[kind]
        cell[1] = max(cell[1], DEPTH_RANK[depth])
        cell[2] += hours
        if provision_id is not None:
            cell[3].add(provision_id)
    instrument_code = {i.id: i.code for i in instruments}
    cells = []
    for c in courses:
        row = folded.get(c.id)
        if not row:
            continue
        for iid in sorted(row, key=instrument_code.__getitem__):
            mask, depth, hours, provisions = row[iid]
            cells.append(
                Cell(
                    c.code,
                    instrument_code[iid],
                    KINDS_OF_MASK[mask],
                    DEPTHS[depth],
                    hours,
                    len(provisions),
                )
            )
    themes = themes_of(session, [i.id for i in instruments])
    domains, statuses = {d.value: d for d in Domain}, {s.value: s for s in CourseStatus}
    return Matrix(
        courses=[Row(c.code, c.title, domains[c.domain], statuses[c.status]) for c in courses],
        instruments=[Column(i.code, i.short_title, themes.get(i.id, [])) for i in instruments],
        cells=cells,
    )


def matrix(session: Session, **filters) -> CoverageMatrix:
    """The matrix (see `fold` for the filters) as the validated schema, for the smaller scopes
    that embed it in another document, such as one plan's syllabus book."""
    return fold(session, **filters).model()


def count_courses(
    session: Session,
    *,
    domain: str | None = None,
    status: str | None = None,
    public_only: bool = False,
) -> int:
    """How many courses the matrix with these filters has (for paging it)."""
    stmt = select(func.count()).select_from(Course)
    if domain:
        stmt = stmt.where(Course.domain == domain)
    if public_only:
        stmt = stmt.where(public_course())
    if status:
        stmt = stmt.where(Course.status == status)
    return session.exec(stmt).one()


def _approved_link(public_only: bool, *where):
    """EXISTS an approved (and, for anonymous readers, public) course's link matching `where`:
    correlated, so each instrument or provision probes its own links by index."""
    return (
        select(CourseLink.id)
        .join(Course, col(Course.id) == CourseLink.course_id)
        .where(Course.status == CourseStatus.approved, *where)
        .where(public_course() if public_only else True)
        .exists()
    )


def _covered(public_only: bool):
    return _approved_link(
        public_only,
        col(CourseLink.instrument_id) == Instrument.id,
        col(CourseLink.kind).in_(COVERING),
    )


def uncovered(
    session: Session, *, public_only: bool = False, theme: str | None = None, limit: int = 100
) -> tuple[list[GapInstrument], int]:
    """The first `limit` instruments (by code) no approved course teaches or assesses, and how
    many there are: a bounded summary of the gap report for pages."""
    stmt = select(Instrument.id, Instrument.code, Instrument.title).where(~_covered(public_only))
    if theme:
        stmt = stmt.where(
            col(Instrument.id).in_(
                select(InstrumentTheme.instrument_id).where(InstrumentTheme.theme == theme)
            )
        )
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(Instrument.code).limit(limit)).all()
    referenced = set(
        session.exec(
            select(Instrument.id).where(
                col(Instrument.id).in_([r.id for r in rows]),
                _approved_link(public_only, col(CourseLink.instrument_id) == Instrument.id),
            )
        )
    )
    themes = themes_of(session, [r.id for r in rows])
    return [
        GapInstrument(
            code=r.code,
            title=r.title,
            themes=themes.get(r.id, []),
            referenced_only=r.id in referenced,
        )
        for r in rows
    ], total


def uncovered_codes(session: Session, codes: list[str], *, public_only: bool = False) -> set[str]:
    """Which of these instruments no approved course teaches or assesses."""
    return set(
        session.exec(
            select(Instrument.code).where(col(Instrument.code).in_(codes), ~_covered(public_only))
        )
    )


def unassessed_count(session: Session, *, public_only: bool = False) -> int:
    """How many provisions no approved course assesses."""
    assessed = _approved_link(
        public_only,
        col(CourseLink.provision_id) == Provision.id,
        CourseLink.kind == LinkKind.assesses,
    )
    return session.exec(select(func.count()).select_from(Provision).where(~assessed)).one()


def gaps(session: Session, *, party: str | None = None, public_only: bool = False) -> GapReport:
    """Instruments no approved course teaches or assesses, and provisions no approved course assesses."""
    instruments_stmt = select(Instrument.id, Instrument.code, Instrument.title)
    if party:
        instruments_stmt = instruments_stmt.where(
            col(Instrument.id).in_(
                select(Participation.instrument_id).where(Participation.country == party.upper())
            )
        )
    instruments = session.exec(instruments_stmt.order_by(Instrument.code)).all()

    def approved(target):
        """DISTINCT (target, kind) pairs of approved courses' links: a few rows per target."""
        return (
            select(target, CourseLink.kind)
            .join(Course, col(Course.id) == CourseLink.course_id)
            .where(Course.status == CourseStatus.approved)
            .where(public_course() if public_only else True)
            .where(col(target).is_not(None))
            .distinct()
        )

    covered: set[int] = set()
    referenced: set[int] = set()
    taught_provisions: set[int] = set()
    assessed_provisions: set[int] = set()
    for instrument_id, kind in session.exec(approved(CourseLink.instrument_id)):
        referenced.add(instrument_id)
        if kind in COVERING:
            covered.add(instrument_id)
    for provision_id, kind in session.exec(approved(CourseLink.provision_id)):
        if kind == LinkKind.assesses:
            assessed_provisions.add(provision_id)
        elif kind in (LinkKind.teaches, LinkKind.practises):
            taught_provisions.add(provision_id)
    ids = [i.id for i in instruments]
    themes = themes_of(session, ids)
    provisions = session.exec(
        select(Provision.id, Provision.code, Provision.number, Provision.heading, Instrument.code)
        .join(Instrument, col(Instrument.id) == Provision.instrument_id)
        .where(col(Provision.instrument_id).in_(instruments_stmt.with_only_columns(Instrument.id)))
        .order_by(Instrument.code, Provision.position)
    ).all()
    return GapReport(
        party=party.upper() if party else None,
        uncovered_instruments=[
            GapInstrument(
                code=i.code,
                title=i.title,
                themes=themes.get(i.id, []),
                referenced_only=i.id in referenced,
            )
            for i in instruments
            if i.id not in covered
        ],
        unassessed_provisions=[
            GapProvision(
                code=code,
                instrument=icode,
                number=number,
                heading=heading,
                taught=pid in taught_provisions,
            )
            for pid, code, number, heading, icode in provisions
            if pid not in assessed_provisions
        ],
    )
