"""Coverage of instruments by courses: the course x instrument matrix and the gap report."""

from sqlmodel import Session, col, select

from app.models.common import CourseStatus, Depth, LinkKind
from app.models.courses import Course, CourseLink
from app.models.coverage import (
    CoverageMatrix,
    GapInstrument,
    GapProvision,
    GapReport,
    MatrixCell,
    MatrixCourse,
    MatrixInstrument,
)
from app.models.instruments import Instrument, InstrumentTheme, Participation, Provision
from app.models.plans import PlanItem
from app.services.courses import public_course
from app.services.instruments import themes_of

KIND_ORDER = list(LinkKind)
COVERING = (LinkKind.teaches, LinkKind.assesses)


def matrix(
    session: Session,
    *,
    domain: str | None = None,
    theme: str | None = None,
    status: str | None = None,
    plan_id: int | None = None,
    public_only: bool = False,
) -> CoverageMatrix:
    """Every course (of a plan, if given) against every instrument it links to, folded per cell."""
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
    instruments_stmt = select(Instrument.id, Instrument.code, Instrument.short_title)
    if theme:
        instruments_stmt = instruments_stmt.where(
            col(Instrument.id).in_(
                select(InstrumentTheme.instrument_id).where(InstrumentTheme.theme == theme)
            )
        )
    courses = session.exec(courses_stmt.order_by(Course.code)).all()
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
        .where(col(CourseLink.course_id).in_(courses_stmt.with_only_columns(Course.id)))
        .where(col(CourseLink.instrument_id).in_(instruments_stmt.with_only_columns(Instrument.id)))
    ).all()
    course_code = {c.id: c.code for c in courses}
    instrument_code = {i.id: i.code for i in instruments}
    folded: dict[tuple[int, int], dict] = {}
    for course_id, instrument_id, provision_id, kind, depth, hours in links:
        cell = folded.setdefault(
            (course_id, instrument_id),
            {"kinds": set(), "depth": 0, "hours": 0, "provisions": set()},
        )
        cell["kinds"].add(LinkKind(kind))
        cell["depth"] = max(cell["depth"], Depth(depth).rank)
        cell["hours"] += hours
        if provision_id is not None:
            cell["provisions"].add(provision_id)
    themes = themes_of(session, [i.id for i in instruments])
    cells = [
        MatrixCell(
            course=course_code[cid],
            instrument=instrument_code[iid],
            kinds=sorted(cell["kinds"], key=KIND_ORDER.index),
            depth=list(Depth)[cell["depth"]],
            hours=cell["hours"],
            provisions=len(cell["provisions"]),
        )
        for (cid, iid), cell in sorted(
            folded.items(), key=lambda kv: (course_code[kv[0][0]], instrument_code[kv[0][1]])
        )
    ]
    return CoverageMatrix(
        courses=[
            MatrixCourse(code=c.code, title=c.title, domain=c.domain, status=c.status)
            for c in courses
        ],
        instruments=[
            MatrixInstrument(code=i.code, short_title=i.short_title, themes=themes.get(i.id, []))
            for i in instruments
        ],
        cells=cells,
    )


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
    approved_links = session.exec(
        select(CourseLink.instrument_id, CourseLink.provision_id, CourseLink.kind)
        .join(Course, col(Course.id) == CourseLink.course_id)
        .where(Course.status == CourseStatus.approved)
        .where(public_course() if public_only else True)
    ).all()
    covered: set[int] = set()
    referenced: set[int] = set()
    taught_provisions: set[int] = set()
    assessed_provisions: set[int] = set()
    for instrument_id, provision_id, kind in approved_links:
        referenced.add(instrument_id)
        if kind in COVERING:
            covered.add(instrument_id)
        if provision_id is not None and kind == LinkKind.assesses:
            assessed_provisions.add(provision_id)
        if provision_id is not None and kind in (LinkKind.teaches, LinkKind.practises):
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
