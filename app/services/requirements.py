"""In-service requirements: who must train how much, and who is done, due or overdue."""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from app.models.common import utcnow
from app.models.courses import Course
from app.models.personnel import OrgUnit, Person, PersonLanguage
from app.models.training import (
    ComplianceReport,
    ComplianceStatus,
    Enrollment,
    PersonCompliance,
    RecordResult,
    Requirement,
    RequirementIn,
    RequirementKind,
    RequirementRead,
    RequirementState,
    TrainingDueNotice,
    TrainingRecord,
    Transcript,
    TranscriptPerson,
)
from app.services import audit, courses, records, webhooks

WARN = timedelta(days=90)  # a refresher or certificate is "due" this long before it lapses
COUNTED = [RecordResult.passed.value, RecordResult.attended.value]
RANK = {ComplianceStatus.done: 0, ComplianceStatus.due: 1, ComplianceStatus.overdue: 2}


def create(session: Session, data: RequirementIn, *, actor: str) -> RequirementRead:
    """A new rule; it applies at once to every matching person."""
    course = courses.get(session, data.course) if data.course else None
    req = Requirement(
        **data.model_dump(exclude={"course"}),
        course_id=course.id if course else None,
        created_by=actor,
    )
    session.add(req)
    session.flush()
    read = _read(req, course.code if course else None)
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="requirement",
        key=str(req.id),
        after=read.model_dump(mode="json"),
    )
    session.commit()
    return read


def _read(req: Requirement, code: str | None) -> RequirementRead:
    return RequirementRead(
        **req.model_dump(include=set(RequirementRead.model_fields) - {"course"}), course=code
    )


def list_requirements(session: Session) -> list[RequirementRead]:
    rows = session.exec(
        select(Requirement, Course.code)
        .outerjoin(Course, Course.id == Requirement.course_id)
        .order_by(col(Requirement.id))
    ).all()
    return [_read(r, code) for r, code in rows]


@dataclass
class Facts:
    """What the rules look at, for a set of people, in a fixed number of queries."""

    hours: dict[int, tuple[float, float]] = field(default_factory=dict)  # (this, last year)
    last: dict[int, dict[int, date]] = field(default_factory=lambda: defaultdict(dict))
    last_domain: dict[int, dict[str, date]] = field(default_factory=lambda: defaultdict(dict))
    languages: dict[int, dict[str, PersonLanguage]] = field(
        default_factory=lambda: defaultdict(dict)
    )


def _facts(session: Session, people_ids, today: date) -> Facts:
    facts = Facts()
    this_year, last_year = date(today.year, 1, 1), date(today.year - 1, 1, 1)
    counted = col(TrainingRecord.result).in_(COUNTED)
    for pid, now_h, last_h in session.exec(
        select(
            TrainingRecord.person_id,
            func.sum(
                case((TrainingRecord.completed_on >= this_year, TrainingRecord.hours), else_=0)
            ),
            func.sum(
                case((TrainingRecord.completed_on < this_year, TrainingRecord.hours), else_=0)
            ),
        )
        .where(
            col(TrainingRecord.person_id).in_(people_ids),
            counted,
            TrainingRecord.completed_on >= last_year,
        )
        .group_by(TrainingRecord.person_id)
    ).all():
        facts.hours[pid] = (float(now_h or 0), float(last_h or 0))
    for pid, course_id, domain, last in session.exec(
        select(
            TrainingRecord.person_id,
            TrainingRecord.course_id,
            Course.domain,
            func.max(TrainingRecord.completed_on),
        )
        .join(Course, Course.id == TrainingRecord.course_id)
        .where(col(TrainingRecord.person_id).in_(people_ids), counted)
        .group_by(TrainingRecord.person_id, TrainingRecord.course_id, Course.domain)
    ).all():
        facts.last[pid][course_id] = last
        seen = facts.last_domain[pid].get(domain)
        facts.last_domain[pid][domain] = max(seen, last) if seen else last
    for lang in session.exec(
        select(PersonLanguage).where(col(PersonLanguage.person_id).in_(people_ids))
    ):
        facts.languages[lang.person_id][lang.language] = lang
    return facts


def _applies(req: Requirement, person: Person) -> bool:
    return (req.position is None or req.position == person.position) and (
        req.level is None or req.level == person.level
    )


def _lapse(expires: date | None, today: date) -> ComplianceStatus:
    if expires is None:
        return ComplianceStatus.overdue
    if expires < today:
        return ComplianceStatus.overdue
    return ComplianceStatus.due if expires - today <= WARN else ComplianceStatus.done


def _state(req: Requirement, person: Person, facts: Facts, today: date) -> RequirementState:
    """One rule for one person (see the README for the meaning of due and overdue)."""
    if req.kind == RequirementKind.hours_per_year:
        now_h, last_h = facts.hours.get(person.id, (0.0, 0.0))
        if now_h >= req.hours:
            status = ComplianceStatus.done
        else:  # short this year; overdue when last year's quota was missed as well
            status = ComplianceStatus.overdue if last_h < req.hours else ComplianceStatus.due
        due_on, detail = date(today.year, 12, 31), f"{now_h:g} of {req.hours:g} h in {today.year}"
    elif req.kind == RequirementKind.refresher:
        last = (
            facts.last[person.id].get(req.course_id)
            if req.course_id
            else facts.last_domain[person.id].get(req.domain)
        )
        due_on = _add_years(last, req.every_years) if last else None
        status = _lapse(due_on, today)
        detail = f"last completed {last.isoformat()}" if last else "never completed"
    else:
        lang = facts.languages[person.id].get(req.language)
        if lang is None or (lang.certificate_date is None and lang.certificate_expires_on is None):
            due_on, status, detail = None, ComplianceStatus.overdue, "no certificate"
        elif lang.certificate_expires_on is None:
            due_on, status, detail = None, ComplianceStatus.done, "certificate without expiry"
        else:
            due_on = lang.certificate_expires_on
            status, detail = _lapse(due_on, today), f"{lang.cefr_level or ''} certificate".strip()
    return RequirementState(
        requirement=req.id,
        name=req.name,
        kind=req.kind,
        status=status,
        due_on=due_on,
        detail=detail,
    )


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def assess(session: Session, people: list[Person], today: date) -> list[PersonCompliance]:
    """Every matching rule for every person; five queries however many people."""
    rules = list(session.exec(select(Requirement).order_by(col(Requirement.id))))
    facts = _facts(session, [p.id for p in people], today)
    out = []
    for person in people:
        states = [_state(r, person, facts, today) for r in rules if _applies(r, person)]
        worst = max((s.status for s in states), key=RANK.get, default=ComplianceStatus.done)
        out.append(
            PersonCompliance(
                person=person.scim_id,
                employee_number=person.employee_number,
                display_name=person.name,
                status=worst,
                requirements=states,
            )
        )
    return out


def compliance(
    session: Session,
    *,
    unit: OrgUnit | None,
    status: ComplianceStatus | None = None,
    today: date | None = None,
) -> ComplianceReport:
    """The active people of a unit (or everyone) and their standing, worst first."""
    today = today or utcnow().date()
    stmt = select(Person).where(col(Person.active).is_(True), col(Person.deleted_at).is_(None))
    if unit is not None:
        stmt = stmt.where(col(Person.id).in_(records.unit_people(unit)))
    people = list(session.exec(stmt.order_by(col(Person.family_name), col(Person.user_name))))
    items = assess(session, people, today)
    if status is not None:
        items = [i for i in items if i.status == status]
    items.sort(key=lambda i: -RANK[i.status])
    return ComplianceReport(
        as_of=today, unit=unit.scim_id if unit else None, items=items, total=len(items)
    )


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # spreadsheet injection


def compliance_csv(report: ComplianceReport) -> str:
    """One row per person and rule."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["person", "employee_number", "name", "requirement", "status", "due_on", "detail"]
    )
    for item in report.items:
        for s in item.requirements:
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        item.person,
                        item.employee_number,
                        item.display_name,
                        s.name,
                        s.status.value,
                        s.due_on,
                        s.detail,
                    )
                ]
            )
    return out.getvalue()


def transcript(session: Session, person: Person, *, today: date | None = None) -> Transcript:
    """Everything HR needs about one person's training, in a versioned shape."""
    today = today or utcnow().date()
    rows = session.exec(
        select(TrainingRecord, Course.code)
        .join(Course, Course.id == TrainingRecord.course_id)
        .where(TrainingRecord.person_id == person.id)
        .order_by(col(TrainingRecord.completed_on), col(TrainingRecord.id))
    ).all()
    hours: dict[str, float] = defaultdict(float)
    for r, _ in rows:
        if r.result in COUNTED:
            hours[str(r.completed_on.year)] += r.hours
    enrolled = session.exec(
        select(Enrollment, Course.code, OrgUnit.scim_id)
        .outerjoin(Course, Course.id == Enrollment.course_id)
        .outerjoin(OrgUnit, OrgUnit.id == Enrollment.group_id)
        .where(Enrollment.person_id == person.id)
        .order_by(col(Enrollment.assigned_at), col(Enrollment.id))
    ).all()
    [standing] = assess(session, [person], today)
    return Transcript(
        person=TranscriptPerson(
            id=person.scim_id,
            employee_number=person.employee_number,
            user_name=person.user_name,
            display_name=person.name,
            position=person.position,
            level=person.level,
            active=person.active,
        ),
        records=[records.record_read(r, person, code) for r, code in rows],
        enrollments=[records.enrollment_read(e, person, code, unit) for e, code, unit in enrolled],
        in_service_hours_by_year=dict(sorted(hours.items())),
        requirements=standing.requirements,
    )


def notify_due(session: Session, *, today: date | None = None) -> int:
    """Emit `person.training_due` once per person, rule, standing and due date; returns how many."""
    today = today or utcnow().date()
    people = list(
        session.exec(
            select(Person).where(col(Person.active).is_(True), col(Person.deleted_at).is_(None))
        )
    )
    by_scim = {p.scim_id: p for p in people}
    sent = {
        (n.person_id, n.requirement_id, n.status, n.due_key)
        for n in session.exec(select(TrainingDueNotice))
    }
    events, notices = [], []
    for item in assess(session, people, today):
        person = by_scim[item.person]
        for state in item.requirements:
            if state.status == ComplianceStatus.done:
                continue
            due_key = state.due_on.isoformat() if state.due_on else ""
            key = (person.id, state.requirement, state.status, due_key)
            if key in sent:
                continue
            notices.append(
                TrainingDueNotice(
                    person_id=person.id,
                    requirement_id=state.requirement,
                    status=state.status,
                    due_key=due_key,
                )
            )
            events.append(
                {
                    "person": person.scim_id,
                    "employee_number": person.employee_number,
                    "display_name": item.display_name,
                    "requirement": state.requirement,
                    "name": state.name,
                    "status": state.status.value,
                    "due_on": due_key or None,
                    "detail": state.detail,
                }
            )
    if notices:
        session.add_all(notices)
        webhooks.emit_many(session, "person.training_due", events)
    session.commit()
    return len(notices)
