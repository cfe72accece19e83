"""Curriculum plans: reading, the facts validation needs, and edits to drafts."""

import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from app.errors import Conflict, Invalid, NotFound, PreconditionFailed, field_error
from app.models.common import utcnow
from app.models.courses import Course, CourseLink, CoursePrerequisite
from app.models.instruments import Instrument
from app.models.plans import (
    ElectiveGroup,
    GroupIn,
    ItemIn,
    ItemRead,
    ItemUpdate,
    LanguageTarget,
    Plan,
    PlanCreate,
    PlanItem,
    PlanRead,
    PlanRequiredInstrument,
    PlanStatus,
    PlanSummary,
    PlanTransition,
    PlanUpdate,
    TermRead,
    TransitionRead,
)
from app.services import audit, hours
from app.services.validation import CourseFacts, ItemFacts, PlanFacts


class CourseRow(NamedTuple):
    id: int
    code: str
    title: str
    status: str
    lecture_hours: int
    seminar_hours: int
    practical_hours: int
    self_study_hours: int
    target_language: str | None
    cefr_level: str | None


SCALARS = (
    "name",
    "description",
    "audience",
    "academic_year",
    "terms",
    "term_hour_budget",
    "total_hour_budget",
    "effective_from",
)


def get(session: Session, plan_id: int) -> Plan:
    """The plan with this id, or NotFound."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"No plan {plan_id}.")
    return plan


def list_plans(
    session: Session,
    *,
    status: str | None = None,
    audience: str | None = None,
    code: str | None = None,
    academic_year: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[PlanSummary], int]:
    """One page of plans, newest academic year first, with their item counts."""
    stmt = select(Plan)
    for column, value in (
        (Plan.status, status),
        (Plan.audience, audience),
        (Plan.code, code),
        (Plan.academic_year, academic_year),
    ):
        if value:
            stmt = stmt.where(column == value)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    plans = session.exec(
        stmt.order_by(col(Plan.academic_year).desc(), Plan.code, col(Plan.version).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    counts = dict(
        session.exec(
            select(PlanItem.plan_id, func.count())
            .where(col(PlanItem.plan_id).in_([p.id for p in plans]))
            .group_by(PlanItem.plan_id)
        ).all()
    )
    return [
        PlanSummary(
            id=p.id,
            code=p.code,
            version=p.version,
            name=p.name,
            audience=p.audience,
            academic_year=p.academic_year,
            terms=p.terms,
            status=p.status,
            item_count=counts.get(p.id, 0),
            effective_from=p.effective_from,
            updated_at=p.updated_at,
        )
        for p in plans
    ], total


# ---- facts: everything validation, detail and diff need, in a fixed number of queries --------


def facts(session: Session, plan: Plan) -> tuple[PlanFacts, dict[int, dict[str, Any]]]:
    """The plan's facts for validation, and per item the display data the API shows."""
    # Only the course columns the rules and the term table use (no descriptions or JSON).
    course_cols = (
        Course.id,
        Course.code,
        Course.title,
        Course.status,
        Course.lecture_hours,
        Course.seminar_hours,
        Course.practical_hours,
        Course.self_study_hours,
        Course.target_language,
        Course.cefr_level,
    )
    rows = session.exec(
        select(PlanItem, *course_cols, ElectiveGroup.key)
        .join(Course, col(Course.id) == PlanItem.course_id)
        .outerjoin(ElectiveGroup, col(ElectiveGroup.id) == PlanItem.elective_group_id)
        .where(PlanItem.plan_id == plan.id)
        .order_by(PlanItem.term, Course.code, PlanItem.id)
    ).all()
    groups = dict(
        session.exec(
            select(ElectiveGroup.key, ElectiveGroup.choose).where(ElectiveGroup.plan_id == plan.id)
        ).all()
    )
    required = session.exec(
        select(Instrument.code)
        .join(PlanRequiredInstrument, col(PlanRequiredInstrument.instrument_id) == Instrument.id)
        .where(PlanRequiredInstrument.plan_id == plan.id)
        .order_by(Instrument.code)
    ).all()
    course_ids = select(PlanItem.course_id).where(PlanItem.plan_id == plan.id)
    prereqs: dict[int, list[str]] = defaultdict(list)
    for cid, code in session.exec(
        select(CoursePrerequisite.course_id, Course.code)
        .join(Course, col(Course.id) == CoursePrerequisite.prerequisite_id)
        .where(col(CoursePrerequisite.course_id).in_(course_ids))
        .order_by(Course.code)
    ).all():
        prereqs[cid].append(code)
    covers: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for cid, icode, kind in session.exec(
        select(CourseLink.course_id, Instrument.code, CourseLink.kind)
        .distinct()
        .join(Instrument, col(Instrument.id) == CourseLink.instrument_id)
        .where(col(CourseLink.course_id).in_(course_ids))
    ).all():
        covers[cid][icode].add(kind)
    courses: dict[str, CourseFacts] = {}
    items: list[ItemFacts] = []
    display: dict[int, dict[str, Any]] = {}
    for item, *columns, group_key in rows:
        course = CourseRow(*columns)
        courses[course.code] = CourseFacts(
            code=course.code,
            status=course.status,
            contact_hours=hours.contact_hours(
                course.lecture_hours, course.seminar_hours, course.practical_hours
            ),
            self_study_hours=course.self_study_hours,
            target_language=course.target_language,
            cefr_level=course.cefr_level,
            prerequisites=tuple(prereqs.get(course.id, ())),
            covers={k: frozenset(v) for k, v in covers.get(course.id, {}).items()},
        )
        items.append(
            ItemFacts(
                id=item.id,
                course=course.code,
                term=item.term,
                mandatory=item.mandatory,
                group=group_key,
                hours_override=item.hours_override,
            )
        )
        display[item.id] = {
            "course_title": course.title,
            "course_status": course.status,
            "override_reason": item.override_reason,
        }
    return PlanFacts(
        audience=plan.audience,
        terms=plan.terms,
        term_hour_budget=plan.term_hour_budget,
        term_budgets={int(k): v for k, v in (plan.term_budgets or {}).items()},
        total_hour_budget=plan.total_hour_budget,
        target_language=plan.target_language,
        target_cefr=plan.target_cefr,
        required=list(required),
        groups=groups,
        items=items,
        courses=courses,
    ), display


def item_read(f: PlanFacts, item: ItemFacts, display: dict[str, Any]) -> ItemRead:
    course = f.courses[item.course]
    return ItemRead(
        id=item.id,
        course_code=item.course,
        course_title=display["course_title"],
        course_status=display["course_status"],
        term=item.term,
        mandatory=item.mandatory,
        elective_group=item.group,
        hours=hours.item_hours(course.contact_hours, item.hours_override),
        course_contact_hours=course.contact_hours,
        self_study_hours=course.self_study_hours,
        hours_override=item.hours_override,
        override_reason=display["override_reason"],
        target_language=course.target_language,
        cefr_level=course.cefr_level,
    )


def detail(
    session: Session, plan: Plan, loaded: tuple[PlanFacts, dict[int, dict[str, Any]]] | None = None
) -> PlanRead:
    """One plan, term by term, with totals, transitions and lineage (`loaded`: its facts, if read)."""
    f, display = loaded or facts(session, plan)
    slots = f.slots()
    loads = hours.term_loads(slots, f.groups, f.terms)
    self_study = hours.self_study_per_term(slots)
    groups = session.exec(
        select(ElectiveGroup).where(ElectiveGroup.plan_id == plan.id).order_by(ElectiveGroup.key)
    ).all()
    transitions = session.exec(
        select(PlanTransition).where(PlanTransition.plan_id == plan.id).order_by(PlanTransition.id)
    ).all()
    lineage = session.exec(
        select(Plan.id, Plan.previous_version_id).where(
            (Plan.id == plan.previous_version_id) | (Plan.previous_version_id == plan.id)
        )
    ).all()
    terms = []
    for term in sorted(loads):
        terms.append(
            TermRead(
                term=term,
                budget=f.budget(term),
                hours=loads[term],
                self_study_hours=self_study.get(term, 0),
                items=[item_read(f, i, display[i.id]) for i in f.items if i.term == term],
            )
        )
    return PlanRead(
        id=plan.id,
        code=plan.code,
        version=plan.version,
        name=plan.name,
        description=plan.description,
        audience=plan.audience,
        academic_year=plan.academic_year,
        terms=plan.terms,
        term_hour_budget=plan.term_hour_budget,
        term_budgets=f.term_budgets,
        total_hour_budget=plan.total_hour_budget,
        language_target=LanguageTarget(language=plan.target_language, cefr_level=plan.target_cefr)
        if plan.target_language and plan.target_cefr
        else None,
        required_instruments=f.required,
        elective_groups=[GroupIn(key=g.key, name=g.name, choose=g.choose) for g in groups],
        status=plan.status,
        previous_version=plan.previous_version_id,
        next_versions=sorted(pid for pid, prev in lineage if prev == plan.id),
        effective_from=plan.effective_from,
        total_hours=hours.plan_total(slots, f.groups),
        term_plan=terms,
        transitions=[
            TransitionRead(
                action=t.action,
                from_status=t.from_status,
                to_status=t.to_status,
                actor=t.actor,
                at=t.at,
                comment=t.comment,
            )
            for t in transitions
        ],
        revision=plan.revision,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
    )


def snapshot(session: Session, plan: Plan) -> dict[str, Any]:
    """A plain-data picture of a plan for audit diffs."""
    read = detail(session, plan)
    data = read.model_dump(
        mode="json",
        include={
            "code",
            "version",
            "name",
            "description",
            "audience",
            "academic_year",
            "terms",
            "term_hour_budget",
            "term_budgets",
            "total_hour_budget",
            "language_target",
            "required_instruments",
            "elective_groups",
            "status",
            "effective_from",
        },
    )
    data["items"] = [
        f"{i.course_code}@{t.term}"
        + ("" if i.mandatory else f"/elective:{i.elective_group or '-'}")
        + (f"/{i.hours_override}h" if i.hours_override is not None else "")
        for t in read.term_plan
        for i in t.items
    ]
    return data


# ---- writes --------------------------------------------------------------------------------


def bump(session: Session, plan: Plan, expected: int | None) -> None:
    """Claim the plan's next revision; fails if someone else changed it since `expected`."""
    current = plan.revision
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"Plan {plan.id} has changed (revision {current}); reload it and try again.",
            current_revision=current,
        )
    result = session.execute(
        update(Plan)
        .where(col(Plan.id) == plan.id, col(Plan.revision) == current)
        .values(revision=current + 1, updated_at=utcnow())
    )
    if result.rowcount != 1:
        raise PreconditionFailed(f"Plan {plan.id} was changed by someone else; reload it.")
    session.refresh(plan)


def require_draft(plan: Plan) -> None:
    """Only drafts change; an approved plan changes through its next version."""
    if plan.status != PlanStatus.draft:
        hint = (
            " Create its next version to change it."
            if plan.status in (PlanStatus.approved, PlanStatus.archived)
            else " Return it to draft first."
        )
        raise Conflict(f"Plan {plan.id} is {plan.status} and cannot be edited.{hint}")


def _slug(name: str, year: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48].strip("-") or "plan"
    return f"{base}-{year[:4]}"


def _unique_code(session: Session, wanted: str) -> str:
    taken = set(session.exec(select(Plan.code).where(col(Plan.code).startswith(wanted))).all())
    code, n = wanted, 2
    while code in taken:
        code, n = f"{wanted}-{n}", n + 1
    return code


def _set_required(session: Session, plan: Plan, codes: list[str]) -> None:
    found = dict(
        session.exec(
            select(Instrument.code, Instrument.id).where(col(Instrument.code).in_(codes))
        ).all()
    )
    missing = [c for c in codes if c not in found]
    if missing:
        raise Invalid(
            "Unknown required instrument(s).",
            errors=[
                field_error(["required_instruments", codes.index(c)], f"no instrument {c!r}")
                for c in missing
            ],
        )
    session.execute(
        delete(PlanRequiredInstrument).where(col(PlanRequiredInstrument.plan_id) == plan.id)
    )
    session.add_all(PlanRequiredInstrument(plan_id=plan.id, instrument_id=found[c]) for c in codes)


def _set_groups(session: Session, plan: Plan, groups: list[GroupIn]) -> None:
    existing = {
        g.key: g
        for g in session.exec(select(ElectiveGroup).where(ElectiveGroup.plan_id == plan.id))
    }
    for g in groups:
        row = existing.pop(g.key, None) or ElectiveGroup(plan_id=plan.id, key=g.key, name=g.name)
        row.name, row.choose = g.name, g.choose
        session.add(row)
    for row in existing.values():  # items of a dropped group become free electives
        session.delete(row)


def _apply(session: Session, plan: Plan, data: PlanCreate | PlanUpdate) -> None:
    given = data.model_fields_set
    for name in ("name", "audience", "academic_year", "terms", "term_hour_budget"):
        if name in given and getattr(data, name) is None:
            raise Invalid(
                f"{name} cannot be null.", errors=[field_error([name], "may not be null")]
            )
    for name in SCALARS:
        if name in given:
            value = getattr(data, name)
            setattr(plan, name, "" if value is None and name == "description" else value)
    if "term_budgets" in given:
        plan.term_budgets = {str(k): v for k, v in sorted((data.term_budgets or {}).items())}
    beyond = [t for t in plan.term_budgets if int(t) > plan.terms]
    if beyond:
        raise Invalid(
            "term_budgets names terms beyond the plan.",
            errors=[field_error(["term_budgets"], f"the plan has {plan.terms} term(s)")],
        )
    if "language_target" in given:
        target = data.language_target
        plan.target_language = target.language if target else None
        plan.target_cefr = target.cefr_level if target else None
    session.add(plan)
    session.flush()
    if "required_instruments" in given:
        _set_required(session, plan, data.required_instruments or [])
    if "elective_groups" in given:
        _set_groups(session, plan, data.elective_groups or [])
    session.flush()


def create(
    session: Session,
    data: PlanCreate,
    *,
    actor: str,
    status: PlanStatus = PlanStatus.draft,
    commit: bool = True,
) -> Plan:
    """A new draft plan (version 1 of its code)."""
    code = data.code or _unique_code(session, _slug(data.name, data.academic_year))
    if session.exec(select(Plan.id).where(Plan.code == code)).first() is not None:
        raise Conflict(
            f"A plan with code {code!r} exists; create a new version of it instead.",
            errors=[field_error(["code"], "already in use")],
        )
    plan = Plan(
        code=code,
        name=data.name,
        audience=data.audience,
        academic_year=data.academic_year,
        terms=data.terms,
        term_hour_budget=data.term_hour_budget,
        status=status,
    )
    _apply(session, plan, data)
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="plan",
        key=str(plan.id),
        after=snapshot(session, plan),
    )
    if commit:
        session.commit()
    return plan


@contextmanager
def draft_edit(session: Session, plan: Plan, *, expected: int | None, actor: str) -> Iterator[None]:
    """One audited change to a draft: claim its next revision, change it, record before and after."""
    require_draft(plan)
    before = snapshot(session, plan)
    bump(session, plan, expected)
    yield
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="plan",
        key=str(plan.id),
        before=before,
        after=snapshot(session, plan),
    )
    session.commit()


def update_plan(
    session: Session, plan: Plan, data: PlanUpdate, *, expected: int | None, actor: str
) -> Plan:
    """Change a draft plan's fields."""
    with draft_edit(session, plan, expected=expected, actor=actor):
        _apply(session, plan, data)
    return plan


def delete_plan(session: Session, plan: Plan, *, expected: int | None, actor: str) -> None:
    """Delete a draft; approved and archived plans are the record and stay."""
    require_draft(plan)
    before = snapshot(session, plan)
    bump(session, plan, expected)
    session.execute(delete(Plan).where(col(Plan.id) == plan.id))
    audit.record(
        session, actor=actor, action="delete", entity="plan", key=str(plan.id), before=before
    )
    session.commit()


def _group_id(session: Session, plan: Plan, key: str | None) -> int | None:
    if key is None:
        return None
    gid = session.exec(
        select(ElectiveGroup.id).where(ElectiveGroup.plan_id == plan.id, ElectiveGroup.key == key)
    ).first()
    if gid is None:
        raise Invalid(
            f"The plan has no elective group {key!r}.",
            errors=[field_error(["elective_group"], f"unknown group {key!r}")],
        )
    return gid


def _check_term(plan: Plan, term: int) -> None:
    if term > plan.terms:
        raise Invalid(
            f"The plan has {plan.terms} term(s).",
            errors=[field_error(["term"], f"must be between 1 and {plan.terms}")],
        )


def add_item(
    session: Session, plan: Plan, data: ItemIn, *, expected: int | None, actor: str
) -> PlanItem:
    """Place a course in a term of a draft plan."""
    require_draft(plan)
    course_id = session.exec(select(Course.id).where(Course.code == data.course_code)).first()
    if course_id is None:
        raise Invalid(
            f"No course {data.course_code!r}.",
            errors=[field_error(["course_code"], f"no course with code {data.course_code!r}")],
        )
    _check_term(plan, data.term)
    group_id = _group_id(session, plan, data.elective_group)
    with draft_edit(session, plan, expected=expected, actor=actor):
        item = PlanItem(
            plan_id=plan.id,
            course_id=course_id,
            term=data.term,
            mandatory=data.mandatory,
            elective_group_id=group_id,
            hours_override=data.hours_override,
            override_reason=data.override_reason if data.hours_override is not None else None,
        )
        session.add(item)
    return item


def get_item(session: Session, plan: Plan, item_id: int) -> PlanItem:
    item = session.get(PlanItem, item_id)
    if item is None or item.plan_id != plan.id:
        raise NotFound(f"Plan {plan.id} has no item {item_id}.")
    return item


def update_item(
    session: Session,
    plan: Plan,
    item: PlanItem,
    data: ItemUpdate,
    *,
    expected: int | None,
    actor: str,
) -> PlanItem:
    """Move an item to another term, or change how it counts."""
    require_draft(plan)
    given = data.model_fields_set
    if "term" in given:
        if data.term is None:
            raise Invalid("term cannot be null.", errors=[field_error(["term"], "may not be null")])
        _check_term(plan, data.term)
    group_id = (
        _group_id(session, plan, data.elective_group)
        if "elective_group" in given
        else item.elective_group_id
    )
    override = data.hours_override if "hours_override" in given else item.hours_override
    reason = data.override_reason if "override_reason" in given else item.override_reason
    if override is not None and not reason:
        raise Invalid(
            "An hour override needs a reason.",
            errors=[field_error(["override_reason"], "required with hours_override")],
        )
    with draft_edit(session, plan, expected=expected, actor=actor):
        if "term" in given:
            item.term = data.term
        item.elective_group_id = group_id
        if "elective_group" in given and data.elective_group is not None:
            item.mandatory = False
        if "mandatory" in given and data.mandatory is not None:
            item.mandatory = data.mandatory
            if data.mandatory:
                item.elective_group_id = None
        item.hours_override = override
        item.override_reason = reason if override is not None else None
        session.add(item)
    return item


def delete_item(
    session: Session, plan: Plan, item: PlanItem, *, expected: int | None, actor: str
) -> None:
    """Take a course out of a draft plan."""
    with draft_edit(session, plan, expected=expected, actor=actor):
        session.delete(item)


def read_item(session: Session, plan: Plan, item_id: int) -> ItemRead:
    f, display = facts(session, plan)
    item = next(i for i in f.items if i.id == item_id)
    return item_read(f, item, display[item_id])
