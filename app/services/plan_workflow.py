"""Plan review and approval, versions carried forward, and the diff between two plans."""

from sqlmodel import Session, func, select

from app.errors import Conflict, Invalid, field_error
from app.models.plans import (
    Action,
    CoverageChange,
    ElectiveGroup,
    HoursChange,
    MovedCourse,
    Plan,
    PlanDiff,
    PlanItem,
    PlanRequiredInstrument,
    PlanStatus,
    PlanTransition,
    Severity,
    TransitionIn,
    Validation,
    VersionIn,
)
from app.services import audit, hours, plans, validation, webhooks

# action -> (from, to)
TRANSITIONS: dict[Action, tuple[PlanStatus, PlanStatus]] = {
    Action.submit: (PlanStatus.draft, PlanStatus.in_review),
    Action.approve: (PlanStatus.in_review, PlanStatus.approved),
    Action.return_: (PlanStatus.in_review, PlanStatus.draft),
    Action.archive: (PlanStatus.approved, PlanStatus.archived),
}


def validate(session: Session, plan: Plan) -> Validation:
    """All findings of a plan, with the counts of errors and warnings."""
    return validation_of(plans.facts(session, plan)[0])


def validation_of(facts: validation.PlanFacts) -> Validation:
    """The findings of facts already read, with the counts of errors and warnings."""
    findings = validation.validate(facts)
    errors = sum(f.severity == Severity.error for f in findings)
    return Validation(
        valid=errors == 0, errors=errors, warnings=len(findings) - errors, findings=findings
    )


def transition(
    session: Session, plan: Plan, data: TransitionIn, *, expected: int | None, actor: str
) -> Plan:
    """Move a plan through draft -> in_review -> approved -> archived (or back to draft)."""
    source, target = TRANSITIONS[data.action]
    if plan.status != source:
        raise Conflict(
            f"Cannot {data.action.value} a plan that is {plan.status}; "
            f"{data.action.value} applies to {source.value} plans."
        )
    if data.action == Action.return_ and not data.comment:
        raise Invalid(
            "Returning a plan needs a comment saying what to change.",
            errors=[field_error(["comment"], "required when returning a plan")],
        )
    if data.action == Action.approve:
        result = validate(session, plan)
        if not result.valid:
            raise Conflict(
                f"The plan has {result.errors} error finding(s) and cannot be approved.",
                findings=[
                    f.model_dump(exclude_none=True)
                    for f in result.findings
                    if f.severity == Severity.error
                ],
            )
    plans.bump(session, plan, expected)
    plan.status = target
    session.add(plan)
    session.add(
        PlanTransition(
            plan_id=plan.id,
            action=data.action.value,
            from_status=source.value,
            to_status=target.value,
            actor=actor,
            comment=data.comment,
        )
    )
    if target in (PlanStatus.approved, PlanStatus.archived):
        webhooks.emit(
            session,
            f"plan.{target.value}",
            {"id": plan.id, "code": plan.code, "version": plan.version, "status": target.value},
        )
    audit.record(
        session,
        actor=actor,
        action=data.action.value,
        entity="plan",
        key=str(plan.id),
        before={"status": source.value},
        after={"status": target.value, "comment": data.comment},
    )
    session.commit()
    return plan


def _next_year(year: str) -> str:
    first = int(year[:4]) + 1
    return f"{first}/{first + 1}"


def new_version(session: Session, plan: Plan, data: VersionIn, *, actor: str) -> Plan:
    """Copy an approved (or archived) plan forward as the draft of its next version."""
    if plan.status not in (PlanStatus.approved, PlanStatus.archived):
        raise Conflict(
            f"Plan {plan.id} is {plan.status}: edit it directly; only approved or archived "
            "plans get a new version."
        )
    latest = session.exec(select(func.max(Plan.version)).where(Plan.code == plan.code)).one()
    if latest != plan.version:
        raise Conflict(f"Plan {plan.code} already has version {latest}; version it instead.")
    copy = Plan(
        code=plan.code,
        version=plan.version + 1,
        name=plan.name,
        description=plan.description,
        audience=plan.audience,
        academic_year=data.academic_year or _next_year(plan.academic_year),
        terms=plan.terms,
        term_hour_budget=plan.term_hour_budget,
        term_budgets=dict(plan.term_budgets or {}),
        total_hour_budget=plan.total_hour_budget,
        target_language=plan.target_language,
        target_cefr=plan.target_cefr,
        status=PlanStatus.draft,
        previous_version_id=plan.id,
        effective_from=data.effective_from,
    )
    session.add(copy)
    session.flush()
    group_ids = {}
    for group in session.exec(select(ElectiveGroup).where(ElectiveGroup.plan_id == plan.id)).all():
        new = ElectiveGroup(plan_id=copy.id, key=group.key, name=group.name, choose=group.choose)
        session.add(new)
        session.flush()
        group_ids[group.id] = new.id
    session.add_all(
        PlanRequiredInstrument(plan_id=copy.id, instrument_id=iid)
        for iid in session.exec(
            select(PlanRequiredInstrument.instrument_id).where(
                PlanRequiredInstrument.plan_id == plan.id
            )
        ).all()
    )
    session.add_all(
        PlanItem(
            plan_id=copy.id,
            course_id=i.course_id,
            term=i.term,
            mandatory=i.mandatory,
            elective_group_id=group_ids.get(i.elective_group_id),
            hours_override=i.hours_override,
            override_reason=i.override_reason,
        )
        for i in session.exec(
            select(PlanItem).where(PlanItem.plan_id == plan.id).order_by(PlanItem.id)
        ).all()
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="version",
        entity="plan",
        key=str(copy.id),
        after={**plans.snapshot(session, copy), "previous_version": plan.id},
    )
    session.commit()
    return copy


def _coverage(f: validation.PlanFacts) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for item in f.items:
        if item.mandatory:
            for code, kinds in f.courses[item.course].covers.items():
                out.setdefault(code, set()).update(kinds)
    return out


def diff(session: Session, plan: Plan, other: Plan) -> PlanDiff:
    """What changed from `other` to `plan`: courses, terms, hours and instrument coverage."""
    new, _ = plans.facts(session, plan)
    old, _ = plans.facts(session, other)

    def placed(f: validation.PlanFacts) -> dict[str, tuple[int, int]]:
        return {
            i.course: (
                i.term,
                hours.item_hours(f.courses[i.course].contact_hours, i.hours_override),
            )
            for i in f.items
        }

    now, before = placed(new), placed(old)
    cov_now, cov_before = _coverage(new), _coverage(old)
    return PlanDiff(
        plan=plan.id,
        against=other.id,
        added=sorted(set(now) - set(before)),
        removed=sorted(set(before) - set(now)),
        moved=[
            MovedCourse(course_code=c, from_term=before[c][0], to_term=now[c][0])
            for c in sorted(set(now) & set(before))
            if now[c][0] != before[c][0]
        ],
        hours_changed=[
            HoursChange(course_code=c, from_hours=before[c][1], to_hours=now[c][1])
            for c in sorted(set(now) & set(before))
            if now[c][1] != before[c][1]
        ],
        coverage_changed=[
            CoverageChange(
                instrument_code=code,
                before=sorted(cov_before.get(code, set())),
                after=sorted(cov_now.get(code, set())),
            )
            for code in sorted(set(cov_now) | set(cov_before))
            if cov_now.get(code, set()) != cov_before.get(code, set())
        ],
    )
