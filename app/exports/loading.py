"""The data of syllabus documents, read for any number of courses in a fixed number of queries."""

from collections import defaultdict
from datetime import datetime

from sqlmodel import Session, col, select

from app.errors import NotFound
from app.exports.schema import (
    CourseSyllabus,
    LegalBasisEntry,
    NumberedOutcome,
    PlanBookDocument,
    SyllabusDocument,
)
from app.models.courses import Course, CourseLink, CourseOutcome, CoursePrerequisite
from app.models.instruments import Instrument, Provision
from app.models.plans import Plan, PlanItem
from app.services import coverage, plan_workflow, plans
from app.services.courses import ensure_visible, hours_of


def legal_basis(session: Session, course_ids: list[int]) -> dict[int, list[LegalBasisEntry]]:
    """Every link of these courses with its instrument's title and provision's number and heading."""
    rows = session.exec(
        select(
            CourseLink.course_id,
            CourseLink.kind,
            CourseLink.depth,
            CourseLink.hours,
            Instrument.code,
            Instrument.title,
            Provision.code,
            Provision.number,
            Provision.heading,
        )
        .join(Instrument, col(Instrument.id) == CourseLink.instrument_id)
        .outerjoin(Provision, col(Provision.id) == CourseLink.provision_id)
        .where(col(CourseLink.course_id).in_(course_ids))
        .order_by(Instrument.code, col(Provision.position).asc().nulls_first(), CourseLink.kind)
    ).all()
    out: dict[int, list[LegalBasisEntry]] = defaultdict(list)
    for cid, kind, depth, hours, icode, ititle, pcode, number, heading in rows:
        out[cid].append(
            LegalBasisEntry(
                instrument=icode,
                instrument_title=ititle,
                provision=pcode,
                number=number,
                heading=heading,
                kind=kind,
                depth=depth,
                hours=hours,
            )
        )
    return out


def syllabi(session: Session, courses: list[Course]) -> list[CourseSyllabus]:
    """The syllabi of these courses, in the order given, in three queries whatever their number."""
    ids = [c.id for c in courses]
    outcomes: dict[int, list[NumberedOutcome]] = defaultdict(list)
    for o in session.exec(
        select(CourseOutcome)
        .where(col(CourseOutcome.course_id).in_(ids))
        .order_by(CourseOutcome.course_id, CourseOutcome.position)
    ).all():
        outcomes[o.course_id].append(
            NumberedOutcome(position=len(outcomes[o.course_id]) + 1, text=o.text, bloom=o.bloom)
        )
    prerequisites: dict[int, list[str]] = defaultdict(list)
    for cid, code in session.exec(
        select(CoursePrerequisite.course_id, Course.code)
        .join(Course, col(Course.id) == CoursePrerequisite.prerequisite_id)
        .where(col(CoursePrerequisite.course_id).in_(ids))
        .order_by(Course.code)
    ).all():
        prerequisites[cid].append(code)
    legal = legal_basis(session, ids)
    return [
        CourseSyllabus(
            code=c.code,
            title=c.title,
            version=c.version,
            status=c.status,
            restricted=c.restricted,
            domain=c.domain,
            level=c.level,
            credits=c.credits,
            aims=c.description,
            outcomes=outcomes.get(c.id, []),
            hours=hours_of(c),
            topics=list(c.topics or []),
            prerequisites=prerequisites.get(c.id, []),
            legal_basis=legal.get(c.id, []),
            assessment=c.assessment,
            language_of_instruction=c.language_of_instruction,
            target_language=c.target_language,
            cefr_level=c.cefr_level,
            references=list(c.references or []),
            updated_at=c.updated_at,
        )
        for c in courses
    ]


def course_document(
    session: Session, course: Course, *, academy: str, generated_at: datetime
) -> SyllabusDocument:
    """One course's syllabus document."""
    return SyllabusDocument(
        generated_at=generated_at, academy=academy, course=syllabi(session, [course])[0]
    )


def plan_document(
    session: Session, plan: Plan, *, public_only: bool, academy: str, generated_at: datetime
) -> PlanBookDocument:
    """A plan's syllabus book: the plan, its courses' syllabi, coverage and findings.

    A course the reader may not see in the catalogue keeps its line in the term table, but its
    syllabus is withheld.
    """
    read = plans.detail(session, plan)
    order = list(dict.fromkeys(i.course_code for t in read.term_plan for i in t.items))
    rows = {
        c.code: c
        for c in session.exec(
            select(Course).where(
                col(Course.id).in_(select(PlanItem.course_id).where(PlanItem.plan_id == plan.id))
            )
        ).all()
    }
    shown, withheld = [], []
    for code in order:
        try:
            ensure_visible(rows[code], public_only=public_only)
            shown.append(rows[code])
        except NotFound:
            withheld.append(code)
    return PlanBookDocument(
        generated_at=generated_at,
        academy=academy,
        plan=read,
        courses=syllabi(session, shown),
        withheld=withheld,
        coverage=coverage.matrix(session, plan_id=plan.id),
        validation=plan_workflow.validate(session, plan),
    )
