"""The instrument registry: listing, searching and reading instruments with their coverage."""

from collections import defaultdict

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.errors import NotFound
from app.models.courses import Course, CourseLink
from app.models.instruments import (
    CoveringCourse,
    Instrument,
    InstrumentRead,
    InstrumentSummary,
    InstrumentTheme,
    Participation,
    ParticipationRead,
    Provision,
    ProvisionRead,
)
from app.services import search
from app.services.courses import public_course


def get(session: Session, code: str) -> Instrument:
    """The instrument with this code, or NotFound."""
    instrument = session.exec(select(Instrument).where(Instrument.code == code)).first()
    if instrument is None:
        raise NotFound(f"No instrument with code {code!r}.")
    return instrument


def themes_of(session: Session, ids: list[int]) -> dict[int, list[str]]:
    rows = session.exec(
        select(InstrumentTheme.instrument_id, InstrumentTheme.theme)
        .where(col(InstrumentTheme.instrument_id).in_(ids))
        .order_by(InstrumentTheme.theme)
    ).all()
    out: dict[int, list[str]] = defaultdict(list)
    for iid, theme in rows:
        out[iid].append(theme)
    return out


def list_instruments(
    session: Session,
    *,
    theme: str | None = None,
    kind: str | None = None,
    party: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[InstrumentSummary], int]:
    """One page of instruments by adoption date, with provision and course counts."""
    stmt = select(Instrument)
    if theme:
        stmt = stmt.where(
            col(Instrument.id).in_(
                select(InstrumentTheme.instrument_id).where(InstrumentTheme.theme == theme)
            )
        )
    if kind:
        stmt = stmt.where(Instrument.kind == kind)
    if party:
        stmt = stmt.where(
            col(Instrument.id).in_(
                select(Participation.instrument_id).where(Participation.country == party.upper())
            )
        )
    if q is not None and q.strip():
        stmt = stmt.where(col(Instrument.id).in_(search.matching_ids(session, "instrument", q)))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    page = stmt.order_by(col(Instrument.adopted_on).asc().nulls_last(), Instrument.code)
    instruments = list(session.exec(page.limit(limit).offset(offset)).all())
    ids = [i.id for i in instruments]
    provision_counts = dict(
        session.exec(
            select(Provision.instrument_id, func.count())
            .where(col(Provision.instrument_id).in_(ids))
            .group_by(Provision.instrument_id)
        ).all()
    )
    course_counts = dict(
        session.exec(
            select(CourseLink.instrument_id, func.count(func.distinct(CourseLink.course_id)))
            .where(col(CourseLink.instrument_id).in_(ids))
            .group_by(CourseLink.instrument_id)
        ).all()
    )
    themes = themes_of(session, ids)
    items = [
        InstrumentSummary(
            code=i.code,
            title=i.title,
            short_title=i.short_title,
            kind=i.kind,
            body=i.body,
            adopted_on=i.adopted_on,
            entry_into_force_on=i.entry_into_force_on,
            themes=themes.get(i.id, []),
            provision_count=provision_counts.get(i.id, 0),
            course_count=course_counts.get(i.id, 0),
        )
        for i in instruments
    ]
    return items, total


def detail(
    session: Session, instrument: Instrument, *, public_only: bool = False
) -> InstrumentRead:
    """One instrument with its provisions, participation, relations and covering courses."""
    related = aliased(Instrument)
    codes_by_id = dict(
        session.exec(
            select(related.id, related.code).where(
                (
                    col(related.id).in_(
                        [x for x in (instrument.amends_id, instrument.supplements_id) if x]
                    )
                )
                | (related.amends_id == instrument.id)
                | (related.supplements_id == instrument.id)
            )
        ).all()
    )
    relatives = session.exec(
        select(Instrument.code, Instrument.amends_id, Instrument.supplements_id)
        .where(
            (Instrument.amends_id == instrument.id) | (Instrument.supplements_id == instrument.id)
        )
        .order_by(Instrument.code)
    ).all()
    provisions = session.exec(
        select(Provision)
        .where(Provision.instrument_id == instrument.id)
        .order_by(Provision.position)
    ).all()
    participation = session.exec(
        select(Participation)
        .where(Participation.instrument_id == instrument.id)
        .order_by(Participation.country, Participation.date)
    ).all()
    links_stmt = (  # columns, not ORM entities: a popular instrument has thousands of links
        select(
            CourseLink.provision_id,
            Course.code,
            Course.title,
            Course.status,
            CourseLink.kind,
            CourseLink.depth,
            CourseLink.hours,
        )
        .join(Course, col(Course.id) == CourseLink.course_id)
        .where(CourseLink.instrument_id == instrument.id)
        .order_by(Course.code, CourseLink.kind)
    )
    if public_only:
        links_stmt = links_stmt.where(public_course())
    by_provision: dict[int | None, list[CoveringCourse]] = defaultdict(list)
    for provision_id, code, title, status, kind, depth, hours in session.exec(links_stmt):
        by_provision[provision_id].append(
            CoveringCourse(
                course_code=code,
                course_title=title,
                course_status=status,
                kind=kind,
                depth=depth,
                hours=hours,
            )
        )
    all_links = [c for group in by_provision.values() for c in group]
    return InstrumentRead(
        code=instrument.code,
        title=instrument.title,
        short_title=instrument.short_title,
        aliases=list(instrument.aliases or []),
        kind=instrument.kind,
        body=instrument.body,
        place=instrument.place,
        adopted_on=instrument.adopted_on,
        entry_into_force_on=instrument.entry_into_force_on,
        reference=instrument.reference,
        themes=themes_of(session, [instrument.id]).get(instrument.id, []),
        source_url=instrument.source_url,
        summary=instrument.summary,
        amends=codes_by_id.get(instrument.amends_id) if instrument.amends_id else None,
        supplements=codes_by_id.get(instrument.supplements_id)
        if instrument.supplements_id
        else None,
        amended_by=[c for c, a, _ in relatives if a == instrument.id],
        supplemented_by=[c for c, _, s in relatives if s == instrument.id],
        participation=[
            ParticipationRead(country=p.country, status=p.status, date=p.date)
            for p in participation
        ],
        provisions=[
            ProvisionRead(
                code=p.code,
                number=p.number,
                heading=p.heading,
                summary=p.summary,
                covered_by=by_provision.get(p.id, []),
            )
            for p in provisions
        ],
        courses=sorted(all_links, key=lambda c: (c.course_code, c.kind)),
        version=instrument.version,
        updated_at=instrument.updated_at,
    )
