"""The course catalogue: reading, writing and linking courses to instruments."""

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, bindparam, delete, func, update
from sqlmodel import Session, col, select

from app.errors import Conflict, Invalid, NotFound, PreconditionFailed, field_error
from app.models.common import CourseStatus, Domain, utcnow
from app.models.courses import (
    Course,
    CourseCreate,
    CourseLink,
    CourseOutcome,
    CoursePrerequisite,
    CourseRead,
    CourseSummary,
    CourseUpdate,
    HoursRead,
    LinkIn,
    LinkRead,
    Outcome,
    check_language_fields,
)
from app.models.instruments import Instrument, Provision
from app.models.plans import Plan, PlanItem
from app.services import audit, search, webhooks

SCALAR_FIELDS = (
    "title",
    "domain",
    "level",
    "status",
    "restricted",
    "description",
    "credits",
    "language_of_instruction",
    "target_language",
    "cefr_level",
    "topics",
    "assessment",
    "references",
)
# An explicit null resets these fields to their empty value.
NULL_MEANS: dict[str, Any] = {
    "restricted": False,
    "description": "",
    "credits": 0,
    "language_of_instruction": "uz",
    "topics": [],
    "assessment": "",
    "references": [],
}


def hour_fields(lecture: int, seminar: int, practical: int, self_study: int) -> dict[str, int]:
    """HoursRead's fields: contact hours are lecture + seminar + practical; self-study is
    counted apart."""
    contact = lecture + seminar + practical
    return {
        "lecture": lecture,
        "seminar": seminar,
        "practical": practical,
        "self_study": self_study,
        "contact": contact,
        "total": contact + self_study,
    }


def hours_of(course: Course) -> HoursRead:
    return HoursRead(
        **hour_fields(
            course.lecture_hours,
            course.seminar_hours,
            course.practical_hours,
            course.self_study_hours,
        )
    )


def summary(course: Course) -> CourseSummary:
    return CourseSummary(
        code=course.code,
        title=course.title,
        domain=course.domain,
        level=course.level,
        status=course.status,
        restricted=course.restricted,
        hours=hours_of(course),
        credits=course.credits,
        language_of_instruction=course.language_of_instruction,
        target_language=course.target_language,
        cefr_level=course.cefr_level,
        version=course.version,
    )


def get(session: Session, code: str) -> Course:
    """The course with this code, or NotFound."""
    course = session.exec(select(Course).where(Course.code == code)).first()
    if course is None:
        raise NotFound(f"No course with code {code!r}.")
    return course


def public_course():
    """The courses anyone may read when the catalogue is public: approved and not restricted."""
    return (col(Course.status) == CourseStatus.approved) & (col(Course.restricted).is_(False))


def ensure_visible(course: Course, *, public_only: bool) -> None:
    """A course outside the public catalogue is, to the public, not there."""
    if public_only and (course.status != CourseStatus.approved or course.restricted):
        raise NotFound(f"No course with code {course.code!r}.")


# The columns of a CourseSummary, in its field order (hours come from the four hour columns).
SUMMARY_COLUMNS = (
    Course.code,
    Course.title,
    Course.domain,
    Course.level,
    Course.status,
    Course.restricted,
    Course.lecture_hours,
    Course.seminar_hours,
    Course.practical_hours,
    Course.self_study_hours,
    Course.credits,
    Course.language_of_instruction,
    Course.target_language,
    Course.cefr_level,
    Course.version,
)
# What a catalogue page reads: whole courses (pages, services) or only their summaries (the API).
READS = {"courses": (Course,), "summaries": SUMMARY_COLUMNS}


def _criteria(filters: frozenset[str], public_only: bool) -> list:
    """WHERE clauses for the named catalogue filters; their values are bound at execution."""
    criteria = [public_course()] if public_only else []
    for name in ("domain", "level", "status"):
        if name in filters:
            criteria.append(col(getattr(Course, name)) == bindparam(name))
    if "instrument" in filters:
        linked = (
            select(CourseLink.course_id)
            .join(Instrument, col(Instrument.id) == CourseLink.instrument_id)
            .where(col(Instrument.code) == bindparam("instrument"))
        )
        criteria.append(col(Course.id).in_(linked))
    return criteria


def _statements(columns: tuple, criteria: list):
    """The page statement (with the total as an uncorrelated scalar subquery) and the count."""
    count = select(func.count()).select_from(Course).where(*criteria)
    page = (
        select(*columns, count.scalar_subquery().correlate(None))
        .where(*criteria)
        .order_by(Course.code)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )
    return page, count


@lru_cache(maxsize=128)
def _shaped_statements(read: str, filters: frozenset[str], public_only: bool):
    """Without a search, every request of one shape (filters given) runs the same statements:
    built once, they skip SQLAlchemy's per-request construction and cache-key work."""
    return _statements(READS[read], _criteria(filters, public_only))


def _page(
    session: Session,
    read: str,
    *,
    values: dict[str, str | None],
    q: str | None,
    public_only: bool,
    limit: int,
    offset: int,
) -> tuple[list, int]:
    """Rows of a READS entry for one page in code order, and the number matching, in one statement.

    The total is computed once, beside the page read in code order. A page past the end has no
    row to carry it; that page alone costs a second, counting statement.
    """
    given = {name: value for name, value in values.items() if value}
    if q is not None and q.strip():
        criteria = _criteria(frozenset(given), public_only)
        criteria.append(col(Course.id).in_(search.matching_ids(session, "course", q)))
        page, count = _statements(READS[read], criteria)
    else:
        page, count = _shaped_statements(read, frozenset(given), public_only)
    params = {**given, "limit": limit, "offset": offset}
    if read == "courses":
        rows = session.exec(page, params=params).all()
    else:  # plain columns: run on the session's connection, without the ORM's result set-up
        rows = session.connection().execute(page, params).all()
    if rows:
        return [row[:-1] for row in rows], rows[0][-1]
    return [], session.exec(count, params=given).one() if offset else 0


def list_courses(
    session: Session,
    *,
    domain: str | None = None,
    level: str | None = None,
    status: str | None = None,
    instrument: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
    public_only: bool = False,
) -> tuple[list[Course], int]:
    """One page of courses in code order, and the number matching the filters."""
    rows, total = _page(
        session,
        "courses",
        values={"domain": domain, "level": level, "status": status, "instrument": instrument},
        q=q,
        public_only=public_only,
        limit=limit,
        offset=offset,
    )
    return [course for (course,) in rows], total


def summary_page(
    session: Session,
    *,
    domain: str | None = None,
    level: str | None = None,
    status: str | None = None,
    instrument: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
    public_only: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """list_courses as CourseSummary-shaped plain data, read as columns rather than entities.

    The same filters, order and total as list_courses; the dicts hold JSON-ready values with the
    keys in CourseSummary's field order, so that serialising them gives CourseSummary's JSON.
    """
    rows, total = _page(
        session,
        "summaries",
        values={"domain": domain, "level": level, "status": status, "instrument": instrument},
        q=q,
        public_only=public_only,
        limit=limit,
        offset=offset,
    )
    items = []
    for (
        code,
        title,
        domain_,
        level_,
        status_,
        restricted,
        lecture,
        seminar,
        practical,
        self_study,
        credits,
        language,
        target_language,
        cefr_level,
        version,
    ) in rows:
        items.append(
            {
                "code": code,
                "title": title,
                "domain": domain_,
                "level": level_,
                "status": status_,
                "restricted": bool(restricted),
                "hours": hour_fields(lecture, seminar, practical, self_study),
                "credits": float(credits),
                "language_of_instruction": language,
                "target_language": target_language,
                "cefr_level": cefr_level,
                "version": version,
            }
        )
    return items, total


def detail(session: Session, course: Course) -> CourseRead:
    """Everything about one course, in a fixed number of queries."""
    outcomes = session.exec(
        select(CourseOutcome)
        .where(CourseOutcome.course_id == course.id)
        .order_by(CourseOutcome.position)
    ).all()
    prereq = session.exec(
        select(Course.code)
        .join(CoursePrerequisite, col(CoursePrerequisite.prerequisite_id) == Course.id)
        .where(CoursePrerequisite.course_id == course.id)
        .order_by(Course.code)
    ).all()
    required_by = session.exec(
        select(Course.code)
        .join(CoursePrerequisite, col(CoursePrerequisite.course_id) == Course.id)
        .where(CoursePrerequisite.prerequisite_id == course.id)
        .order_by(Course.code)
    ).all()
    return CourseRead(
        **summary(course).model_dump(),
        description=course.description,
        outcomes=[Outcome(text=o.text, bloom=o.bloom) for o in outcomes],
        topics=list(course.topics or []),
        assessment=course.assessment,
        references=list(course.references or []),
        prerequisites=list(prereq),
        required_by=list(required_by),
        links=links_of(session, [course.id])[course.id],
        created_at=course.created_at,
        updated_at=course.updated_at,
    )


def links_of(session: Session, course_ids: list[int]) -> dict[int, list[LinkRead]]:
    """The links of several courses in one query, ordered by target."""
    rows = session.exec(
        select(CourseLink, Instrument.code, Provision.code)
        .join(Instrument, col(Instrument.id) == CourseLink.instrument_id)
        .outerjoin(Provision, col(Provision.id) == CourseLink.provision_id)
        .where(col(CourseLink.course_id).in_(course_ids))
        .order_by(Instrument.code, col(Provision.position).asc().nulls_first(), CourseLink.kind)
    ).all()
    out: dict[int, list[LinkRead]] = defaultdict(list)
    for link, instrument_code, provision_code in rows:
        out[link.course_id].append(
            LinkRead(
                id=link.id,
                target=provision_code or instrument_code,
                instrument=instrument_code,
                provision=provision_code,
                kind=link.kind,
                depth=link.depth,
                hours=link.hours,
            )
        )
    return out


def snapshot(session: Session, course: Course) -> dict[str, Any]:
    """A plain-data picture of a course, for audit diffs and change detection."""
    read = detail(session, course)
    data = read.model_dump(
        mode="json", exclude={"version", "created_at", "updated_at", "required_by"}
    )
    data["links"] = sorted(
        ({k: v for k, v in link.items() if k != "id"} for link in data["links"]),
        key=lambda link: (link["target"], link["kind"]),
    )
    return data


# ---- writes ------------------------------------------------------------------------------


def _resolve_prerequisites(session: Session, course: Course, codes: list[str]) -> list[int]:
    """Prerequisites must exist and must not make the prerequisite graph cyclic."""
    if not codes:
        return []
    found = dict(
        session.exec(select(Course.code, Course.id).where(col(Course.code).in_(codes))).all()
    )
    missing = [c for c in codes if c not in found]
    if missing:
        raise Invalid(
            "Unknown prerequisite course(s).",
            errors=[
                field_error(["prerequisites", codes.index(c)], f"no course with code {c!r}")
                for c in missing
            ],
        )
    if course.id is not None:
        edges: dict[int, set[int]] = defaultdict(set)
        for cid, pid in session.exec(
            select(CoursePrerequisite.course_id, CoursePrerequisite.prerequisite_id)
        ).all():
            if cid != course.id:
                edges[cid].add(pid)
        edges[course.id] = set(found.values())
        seen: set[int] = set()
        stack = list(edges[course.id])
        while stack:
            node = stack.pop()
            if node == course.id:
                raise Invalid(
                    "The prerequisites would form a cycle.",
                    errors=[
                        field_error(
                            ["prerequisites"], "prerequisites form a cycle through this course"
                        )
                    ],
                )
            if node not in seen:
                seen.add(node)
                stack.extend(edges.get(node, ()))
    return [found[c] for c in codes]


def _apply(session: Session, course: Course, data: CourseCreate | CourseUpdate) -> None:
    given = data.model_fields_set
    for name in ("title", "domain", "level", "status"):
        if name in given and getattr(data, name) is None:
            raise Invalid(
                f"{name} cannot be null.", errors=[field_error([name], "may not be null")]
            )
    for name in SCALAR_FIELDS:
        if name in given:
            value = getattr(data, name)
            setattr(course, name, NULL_MEANS.get(name, None) if value is None else value)
    if "hours" in given and data.hours is not None:
        course.lecture_hours = data.hours.lecture
        course.seminar_hours = data.hours.seminar
        course.practical_hours = data.hours.practical
        course.self_study_hours = data.hours.self_study
    try:
        check_language_fields(Domain(course.domain), course.target_language, course.cefr_level)
    except ValueError as exc:
        raise Invalid(str(exc), errors=[field_error(["cefr_level"], str(exc))]) from exc
    session.add(course)
    session.flush()
    if "outcomes" in given:
        session.execute(delete(CourseOutcome).where(col(CourseOutcome.course_id) == course.id))
        for pos, outcome in enumerate(data.outcomes or [], start=1):
            session.add(
                CourseOutcome(
                    course_id=course.id, position=pos, text=outcome.text, bloom=outcome.bloom
                )
            )
    if "prerequisites" in given:
        ids = _resolve_prerequisites(session, course, data.prerequisites or [])
        session.execute(
            delete(CoursePrerequisite).where(col(CoursePrerequisite.course_id) == course.id)
        )
        for pid in ids:
            session.add(CoursePrerequisite(course_id=course.id, prerequisite_id=pid))
    session.flush()


def _reindex(session: Session, course: Course) -> None:
    outcomes = session.exec(
        select(CourseOutcome.text).where(CourseOutcome.course_id == course.id)
    ).all()
    document = " ".join(
        [
            course.code,
            course.title,
            course.description,
            course.assessment,
            *course.topics,
            *outcomes,
        ]
    )
    search.index(session, "course", course.id, document)


def _bump(session: Session, course: Course, expected: int | None) -> None:
    """Claim the next version; fails if another writer got there first."""
    current = course.version
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"Course {course.code} has changed (version {current}); reload it and try again.",
            current_version=current,
        )
    result = session.execute(
        update(Course)
        .where(col(Course.id) == course.id, col(Course.version) == current)
        .values(version=current + 1, updated_at=utcnow())
    )
    if result.rowcount != 1:
        raise PreconditionFailed(f"Course {course.code} was changed by someone else; reload it.")
    session.refresh(course)


def create(session: Session, data: CourseCreate, *, actor: str, commit: bool = True) -> Course:
    """A new course; its code must be unused."""
    if session.exec(select(Course.id).where(Course.code == data.code)).first() is not None:
        raise Conflict(
            f"A course with code {data.code!r} already exists.",
            errors=[field_error(["code"], "already in use")],
        )
    course = Course(code=data.code, title=data.title, domain=data.domain, level=data.level)
    _apply(session, course, data)
    _reindex(session, course)
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="course",
        key=course.code,
        after=snapshot(session, course),
    )
    if commit:
        session.commit()
    return course


@contextmanager
def course_edit(
    session: Session, course: Course, *, expected: int | None, actor: str, commit: bool = True
) -> Iterator[None]:
    """One audited change: claim the course's next version, change it, record before and after."""
    before = snapshot(session, course)
    _bump(session, course, expected)
    yield
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="course",
        key=course.code,
        before=before,
        after=snapshot(session, course),
    )
    if commit:
        session.commit()


def update_course(
    session: Session,
    course: Course,
    data: CourseUpdate,
    *,
    expected: int | None,
    actor: str,
    commit: bool = True,
) -> Course:
    """Change a course if the caller saw its current version; audited with a field diff."""
    with course_edit(session, course, expected=expected, actor=actor, commit=commit):
        _apply(session, course, data)
        _reindex(session, course)
        webhooks.emit(session, "course.updated", {"code": course.code, "version": course.version})
    return course


def delete_course(session: Session, course: Course, *, expected: int | None, actor: str) -> None:
    """Remove a course that no other course requires."""
    required_by = session.exec(
        select(Course.code)
        .join(CoursePrerequisite, col(CoursePrerequisite.course_id) == Course.id)
        .where(CoursePrerequisite.prerequisite_id == course.id)
    ).all()
    if required_by:
        raise Conflict(
            f"Course {course.code} is a prerequisite of {', '.join(sorted(required_by))}."
        )
    in_plans = session.exec(
        select(Plan.code, Plan.version)
        .join(PlanItem, col(PlanItem.plan_id) == Plan.id)
        .where(PlanItem.course_id == course.id)
        .order_by(Plan.code, Plan.version)
    ).all()
    if in_plans:
        named = ", ".join(f"{code} v{version}" for code, version in in_plans)
        raise Conflict(
            f"Course {course.code} is placed in plan(s) {named}; archive it instead of deleting."
        )
    before = snapshot(session, course)
    _bump(session, course, expected)
    search.remove(session, "course", course.id)
    session.execute(delete(Course).where(col(Course.id) == course.id))
    audit.record(
        session, actor=actor, action="delete", entity="course", key=course.code, before=before
    )
    session.commit()


def resolve_target(session: Session, target: str) -> tuple[Instrument, Provision | None]:
    """An instrument code, or instrument/provision, to the rows it names."""
    instrument_code, _, provision_key = target.partition("/")
    instrument = session.exec(select(Instrument).where(Instrument.code == instrument_code)).first()
    if instrument is None:
        raise Invalid(
            f"No instrument {instrument_code!r}.",
            errors=[field_error(["target"], f"unknown instrument {instrument_code!r}")],
        )
    if not provision_key:
        return instrument, None
    provision = session.exec(select(Provision).where(Provision.code == target)).first()
    if provision is None:
        raise Invalid(
            f"No provision {target!r}.",
            errors=[field_error(["target"], f"unknown provision {target!r}")],
        )
    return instrument, provision


def add_link(
    session: Session, course: Course, data: LinkIn, *, expected: int | None, actor: str
) -> LinkRead:
    """Link a course to an instrument or provision; one link per target and kind."""
    instrument, provision = resolve_target(session, data.target)
    if data.hours > course.contact_hours:
        raise Invalid(
            "Link hours exceed the course's contact hours.",
            errors=[field_error(["hours"], f"at most {course.contact_hours} (contact hours)")],
        )
    provision_id = provision.id if provision else None
    duplicate = session.exec(
        select(CourseLink.id).where(
            CourseLink.course_id == course.id,
            CourseLink.instrument_id == instrument.id,
            CourseLink.provision_id == provision_id
            if provision_id
            else col(CourseLink.provision_id).is_(None),
            CourseLink.kind == data.kind,
        )
    ).first()
    if duplicate is not None:
        raise Conflict(f"{course.code} already {data.kind} {data.target}.")
    with course_edit(session, course, expected=expected, actor=actor):
        link = CourseLink(
            course_id=course.id,
            instrument_id=instrument.id,
            provision_id=provision_id,
            kind=data.kind,
            depth=data.depth,
            hours=data.hours,
        )
        session.add(link)
    return next(lr for lr in links_of(session, [course.id])[course.id] if lr.id == link.id)


def delete_link(
    session: Session, course: Course, link_id: int, *, expected: int | None, actor: str
) -> None:
    """Remove one link of this course."""
    link = session.get(CourseLink, link_id)
    if link is None or link.course_id != course.id:
        raise NotFound(f"Course {course.code} has no link {link_id}.")
    with course_edit(session, course, expected=expected, actor=actor):
        session.delete(link)


def replace_links(
    session: Session, course: Course, links: list[tuple[int, int | None, LinkIn]]
) -> None:
    """Set a course's links to exactly these resolved (instrument id, provision id, link) triples."""
    session.execute(delete(CourseLink).where(col(CourseLink.course_id) == course.id))
    for instrument_id, provision_id, data in links:
        session.add(
            CourseLink(
                course_id=course.id,
                instrument_id=instrument_id,
                provision_id=provision_id,
                kind=data.kind,
                depth=data.depth,
                hours=data.hours,
            )
        )
    session.flush()
