"""Enrolments and training records: assignment (one person or a whole unit) and bulk import."""

import hashlib
import json
import uuid
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, insert, or_, union
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.errors import Conflict, Invalid, field_error
from app.models.common import utcnow
from app.models.courses import Course
from app.models.personnel import GroupMember, OrgUnit, Person
from app.models.plans import Plan
from app.models.training import (
    MAX_BATCH,
    Enrollment,
    EnrollmentIn,
    EnrollmentRead,
    EnrollmentResult,
    EnrollmentSource,
    IdempotencyKey,
    ImportResult,
    RecordIn,
    RecordRead,
    TrainingRecord,
)
from app.services import audit, courses, personnel, plans, webhooks


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def people_by_key(session: Session, keys: set[str]) -> dict[str, Person]:
    """People by scim_id or employee number, in one query (deprovisioned ones included)."""
    if not keys:
        return {}
    ids = [k for k in keys if _is_uuid(k)]
    numbers = [k for k in keys if not _is_uuid(k)]
    found = session.exec(
        select(Person).where(
            or_(col(Person.scim_id).in_(ids), col(Person.employee_number).in_(numbers))
        )
    ).all()
    out: dict[str, Person] = {}
    for p in found:
        out[p.scim_id] = p
        if p.employee_number:
            out[p.employee_number] = p
    return out


def unit_people(unit: OrgUnit):
    """A subquery of the ids of the people in a unit: its members and those it is home to."""
    return union(
        select(GroupMember.person_id).where(GroupMember.group_id == unit.id),
        select(Person.id).where(Person.unit_id == unit.id),
    )


# ---- enrolments ------------------------------------------------------------------------------


def enrollment_read(e: Enrollment, person: Person, course: str | None, unit: str | None):
    return EnrollmentRead(
        id=e.id,
        person=person.scim_id,
        plan_id=e.plan_id,
        course=course,
        source=e.source,
        unit=unit,
        assigned_at=e.assigned_at,
        assigned_by=e.assigned_by,
    )


def enroll(session: Session, data: EnrollmentIn, *, actor: str) -> EnrollmentResult:
    """Assign a person or every active member of a unit; people already assigned are skipped."""
    unit = personnel.get_unit(session, data.unit) if data.unit else None
    if unit is not None:
        people = list(
            session.exec(
                select(Person).where(
                    col(Person.id).in_(unit_people(unit)),
                    col(Person.active).is_(True),
                    col(Person.deleted_at).is_(None),
                )
            )
        )
    else:
        people = [personnel.lookup(session, data.person)]
    course = courses.get(session, data.course) if data.course else None
    plan = plans.get(session, data.plan_id) if data.plan_id else None
    target = f"course:{course.id}" if course else f"plan:{plan.id}"
    have = set(
        session.exec(
            select(Enrollment.person_id).where(
                Enrollment.target == target,
                col(Enrollment.person_id).in_([p.id for p in people]),
            )
        )
    )
    source = EnrollmentSource.group if unit else EnrollmentSource.direct
    created = []
    for person in people:
        if person.id in have:
            continue
        e = Enrollment(
            person_id=person.id,
            plan_id=plan.id if plan else None,
            course_id=course.id if course else None,
            target=target,
            source=source,
            group_id=unit.id if unit else None,
            assigned_by=actor,
        )
        session.add(e)
        created.append((e, person))
    session.flush()
    out = []
    for e, person in created:
        read = enrollment_read(e, person, course.code if course else None, data.unit)
        out.append(read)
        audit.record(
            session,
            actor=actor,
            action="create",
            entity="enrollment",
            key=str(e.id),
            after=read.model_dump(mode="json"),
        )
    webhooks.emit_many(session, "enrollment.created", [r.model_dump(mode="json") for r in out])
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent assignment of the same person
        session.rollback()
        raise Conflict("Someone assigned these people at the same time; retry.") from exc
    return EnrollmentResult(created=out, existing=len(people) - len(out))


# ---- training records ------------------------------------------------------------------------


def request_hash(payload: Any) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def _replayed(session: Session, actor: str, key: str, digest: str) -> tuple[int, dict] | None:
    row = session.exec(
        select(IdempotencyKey).where(IdempotencyKey.actor == actor, IdempotencyKey.key == key)
    ).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise Invalid(
            "This Idempotency-Key was already used with a different request body.",
            errors=[field_error(["Idempotency-Key"], "reused with a different body")],
        )
    return row.status_code, row.body


def _rows(payload: Any) -> tuple[list[Any], bool]:
    if isinstance(payload, dict) and "records" in payload:
        rows = payload["records"]
        if set(payload) != {"records"} or not isinstance(rows, list):
            raise Invalid(
                'A batch is {"records": [...]} and nothing else.',
                errors=[field_error(["records"], "must be the only field, a list")],
            )
        if not 1 <= len(rows) <= MAX_BATCH:
            raise Invalid(
                f"A batch holds 1 to {MAX_BATCH} records.",
                errors=[field_error(["records"], f"1 to {MAX_BATCH} records")],
            )
        return rows, True
    return [payload], False


def _error(errors: list, batch: bool, index: int, loc, message: str, kind="value_error"):
    where = ["records", index, *loc] if batch else list(loc)
    errors.append({**field_error(where, message, kind), "index": index})


def _validate(session: Session, rows: list[Any], batch: bool):
    """Every row checked, every bad row reported; people, courses and plans: one query each."""
    errors: list[dict] = []
    parsed: list[tuple[int, RecordIn]] = []
    for i, row in enumerate(rows):
        try:
            parsed.append((i, RecordIn.model_validate(row)))
        except ValidationError as exc:
            for err in exc.errors():
                _error(errors, batch, i, err["loc"], err["msg"], err["type"])
    people = people_by_key(session, {r.person for _, r in parsed})
    codes = {r.course for _, r in parsed}
    course_ids = (
        dict(session.exec(select(Course.code, Course.id).where(col(Course.code).in_(codes))).all())
        if codes
        else {}
    )
    plan_ids = {r.plan_id for _, r in parsed if r.plan_id}
    known_plans = (
        set(session.exec(select(Plan.id).where(col(Plan.id).in_(plan_ids)))) if plan_ids else set()
    )
    keys = {_key(r) for _, r in parsed}
    pids = {p.id for p in people.values()}
    existing = (
        set(
            session.exec(
                select(TrainingRecord.person_id, TrainingRecord.source_key).where(
                    col(TrainingRecord.person_id).in_(pids),
                    col(TrainingRecord.source_key).in_(keys),
                )
            ).all()
        )
        if pids
        else set()
    )
    seen: set[tuple[int, str]] = set()
    good: list[tuple[RecordIn, Person, int]] = []
    for i, r in parsed:
        person = people.get(r.person)
        ok = True
        if person is None:
            _error(errors, batch, i, ["person"], "no person with this id or employee number")
            ok = False
        if r.course not in course_ids:
            _error(errors, batch, i, ["course"], "no course with this code")
            ok = False
        if r.plan_id and r.plan_id not in known_plans:
            _error(errors, batch, i, ["plan_id"], "no plan with this id")
            ok = False
        if person is not None:
            pair = (person.id, _key(r))
            if pair in existing:
                _error(errors, batch, i, ["source_key"], "this record was already imported")
                ok = False
            elif pair in seen:
                _error(errors, batch, i, ["source_key"], "repeated in this batch")
                ok = False
            seen.add(pair)
        if ok:
            good.append((r, person, course_ids[r.course]))
    if errors:
        raise Invalid(f"{len(errors)} error(s); nothing was imported.", errors=errors)
    return good


def _key(r: RecordIn) -> str:
    return r.source_key or f"{r.course}@{r.completed_on.isoformat()}"


def import_records(
    session: Session, payload: Any, *, actor: str, idempotency_key: str | None
) -> tuple[int, dict]:
    """All or nothing; a retry with the same Idempotency-Key and body gets the first answer."""
    rows, batch = _rows(payload)
    if batch and not idempotency_key:
        raise Invalid(
            "A batch needs an Idempotency-Key header, so that a retry cannot import it twice.",
            errors=[field_error(["Idempotency-Key"], "required for a batch", "missing")],
        )
    digest = request_hash(payload)
    if idempotency_key and (first := _replayed(session, actor, idempotency_key, digest)):
        return first
    good = _validate(session, rows, batch)
    now = utcnow()
    values = [
        {
            "person_id": person.id,
            "course_id": course_id,
            "plan_id": r.plan_id,
            "completed_on": r.completed_on,
            "result": r.result.value,
            "grade": r.grade,
            "hours": r.hours,
            "certificate_number": r.certificate_number,
            "expires_on": r.expires_on,
            "source_key": _key(r),
            "created_at": now,
            "created_by": actor,
        }
        for r, person, course_id in good
    ]
    session.execute(insert(TrainingRecord), values)  # executemany: one round trip per batch
    webhooks.emit_many(
        session,
        "record.completed",
        [
            {
                **r.model_dump(mode="json", exclude={"person", "source_key"}),
                "person": person.scim_id,
                "employee_number": person.employee_number,
                "source_key": _key(r),
            }
            for r, person, _ in good
        ],
    )
    keys = [v["source_key"] for v in values]
    audit.record(
        session,
        actor=actor,
        action="import",
        entity="training_record",
        key=idempotency_key or f"{good[0][1].scim_id}/{keys[0]}",
        after={"count": len(values), "people": sorted({p.scim_id for _, p, _ in good})},
    )
    body = ImportResult(created=len(values), source_keys=keys).model_dump(mode="json")
    if idempotency_key:
        session.add(
            IdempotencyKey(
                actor=actor, key=idempotency_key, request_hash=digest, status_code=201, body=body
            )
        )
    try:
        session.commit()
    except IntegrityError as exc:  # the same key or records, imported concurrently
        session.rollback()
        raise Conflict("These records were imported concurrently; retry the request.") from exc
    return 201, body


def list_records(
    session: Session,
    *,
    person: str | None = None,
    course: str | None = None,
    plan_id: int | None = None,
    unit: str | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[RecordRead], int]:
    """Records, newest first, in two queries."""
    stmt = (
        select(TrainingRecord, Person, Course.code)
        .join(Person, Person.id == TrainingRecord.person_id)
        .join(Course, Course.id == TrainingRecord.course_id)
    )
    if person:
        stmt = stmt.where(TrainingRecord.person_id == personnel.lookup(session, person).id)
    if course:
        stmt = stmt.where(Course.code == course)
    if plan_id:
        stmt = stmt.where(TrainingRecord.plan_id == plan_id)
    if unit:
        stmt = stmt.where(
            col(TrainingRecord.person_id).in_(unit_people(personnel.get_unit(session, unit)))
        )
    if since:
        stmt = stmt.where(TrainingRecord.completed_on >= since)
    if until:
        stmt = stmt.where(TrainingRecord.completed_on <= until)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    page = session.exec(
        stmt.order_by(col(TrainingRecord.completed_on).desc(), col(TrainingRecord.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [record_read(r, p, code) for r, p, code in page], total


def record_read(r: TrainingRecord, p: Person, code: str) -> RecordRead:
    return RecordRead(
        id=r.id,
        person=p.scim_id,
        employee_number=p.employee_number,
        course=code,
        plan_id=r.plan_id,
        completed_on=r.completed_on,
        result=r.result,
        grade=r.grade,
        hours=r.hours,
        certificate_number=r.certificate_number,
        expires_on=r.expires_on,
        source_key=r.source_key,
        created_at=r.created_at,
    )
