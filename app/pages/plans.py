"""Plan pages: the list, the plan builder (terms side by side, htmx), workflow, versions, diff."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlmodel import select

from app.db import SessionDep
from app.errors import PlannerError, PreconditionFailed
from app.models.accounts import Scope
from app.models.common import Level
from app.models.plans import (
    Action,
    ItemIn,
    ItemUpdate,
    Plan,
    PlanCreate,
    PlanStatus,
    TransitionIn,
    VersionIn,
)
from app.pages.forms import field_errors
from app.pages.render import is_htmx, render
from app.security import PlansRead, PlansTransition, PlansWrite, ensure
from app.services import courses, plan_workflow, plans

router = APIRouter(prefix="/plans", tags=["pages"], include_in_schema=False)
Id = Annotated[int, Query(ge=1, le=2**31 - 1)]
AVAILABLE = {
    PlanStatus.draft: [Action.submit],
    PlanStatus.in_review: [Action.approve, Action.return_],
    PlanStatus.approved: [Action.archive],
    PlanStatus.archived: [],
}


def _workspace(session, plan: Plan, principal, *, message: str | None = None, errors=None) -> dict:
    """Everything the plan builder shows: terms, totals, findings, lineage, actions."""
    loaded = plans.facts(session, plan)  # read once: the terms and the findings share it
    detail = plans.detail(session, plan, loaded)
    validation = plan_workflow.validation_of(loaded[0])
    versions, _ = plans.list_plans(session, code=plan.code, limit=500)
    actions = [
        a
        for a in AVAILABLE[PlanStatus(plan.status)]
        if principal.can(Scope.plans_write if a == Action.submit else Scope.plans_approve)
    ]
    return {
        "plan": detail,
        "validation": validation,
        "findings_by_term": _by_term(validation.findings),
        "versions": sorted(versions, key=lambda v: v.version),
        "editable": plan.status == PlanStatus.draft and principal.can(Scope.plans_write),
        "actions": actions,
        "can_version": plan.status in (PlanStatus.approved, PlanStatus.archived)
        and principal.can(Scope.plans_write)
        and max(v.version for v in versions) == plan.version,
        "message": message,
        "errors": errors or {},
    }


def _by_term(findings):
    out: dict[int | None, list] = {}
    for f in findings:
        out.setdefault(f.term, []).append(f)
    return out


def _board(request, session, plan, principal, *, status=200, message=None, errors=None):
    """The builder region alone for htmx; the whole page otherwise."""
    ctx = _workspace(session, plan, principal, message=message, errors=errors)
    template = "plans/_workspace.html" if is_htmx(request) else "plans/detail.html"
    return render(request, template, ctx, status=status)


def _after_write(request, session, plan_id, principal, message=None):
    if is_htmx(request):
        return _board(request, session, plans.get(session, plan_id), principal, message=message)
    return RedirectResponse(request.url_for("plan_detail", plan_id=plan_id), status_code=303)


def _failed(request, session, plan_id, principal, exc: PlannerError):
    session.rollback()
    plan = plans.get(session, plan_id)
    if isinstance(exc, PreconditionFailed):
        message = "stale"
    else:
        message = exc.detail
    return _board(
        request,
        session,
        plan,
        principal,
        status=exc.status,
        message=message,
        errors=field_errors(exc),
    )


@router.get("", response_class=HTMLResponse)
def plan_list(
    request: Request,
    principal: PlansRead,
    session: SessionDep,
    status: PlanStatus | None = None,
    audience: Level | None = None,
):
    items, total = plans.list_plans(session, status=status, audience=audience, limit=500)
    return render(
        request,
        "plans/list.html",
        {
            "items": items,
            "total": total,
            "status": status,
            "audience": audience,
            "statuses": list(PlanStatus),
            "audiences": list(Level),
            "errors": {},
            "values": {},
        },
    )


@router.post("", response_class=HTMLResponse)
def plan_create(
    request: Request,
    principal: PlansWrite,
    session: SessionDep,
    name: Annotated[str, Form(max_length=300)] = "",
    audience: Annotated[str, Form(max_length=20)] = "",
    academic_year: Annotated[str, Form(max_length=20)] = "",
    terms: Annotated[str, Form(max_length=5)] = "",
    term_hour_budget: Annotated[str, Form(max_length=6)] = "",
    total_hour_budget: Annotated[str, Form(max_length=7)] = "",
):
    values = {
        "name": name,
        "audience": audience,
        "academic_year": academic_year,
        "terms": terms,
        "term_hour_budget": term_hour_budget,
        "total_hour_budget": total_hour_budget,
    }
    try:
        data = PlanCreate.model_validate({k: v for k, v in values.items() if v != ""})
        plan = plans.create(session, data, actor=principal.actor)
    except (ValidationError, PlannerError) as exc:
        session.rollback()
        items, total = plans.list_plans(session, limit=500)
        return render(
            request,
            "plans/list.html",
            {
                "items": items,
                "total": total,
                "status": None,
                "audience": None,
                "statuses": list(PlanStatus),
                "audiences": list(Level),
                "errors": field_errors(exc),
                "values": values,
            },
            status=422,
        )
    return RedirectResponse(request.url_for("plan_detail", plan_id=plan.id), status_code=303)


@router.get("/{plan_id}", response_class=HTMLResponse)
def plan_detail(request: Request, principal: PlansRead, session: SessionDep, plan_id: int):
    return _board(request, session, plans.get(session, plan_id), principal)


@router.get("/{plan_id}/course-search", response_class=HTMLResponse)
def plan_course_search(
    request: Request,
    principal: PlansRead,
    session: SessionDep,
    plan_id: int,
    term: Annotated[int, Query(ge=1, le=12)] = 1,
    q: Annotated[str, Query(max_length=200)] = "",
    course_code: Annotated[str, Query(max_length=200)] = "",
    revision: Annotated[str, Query(max_length=12)] = "",
):
    """Courses to add: the builder's input is named course_code so that it also posts without JS.

    The result buttons carry the revision of the page they were searched from, so that adding
    from a stale page is refused like any other stale edit.
    """
    q = q or course_code
    plan = plans.get(session, plan_id)
    found, total = (
        courses.list_courses(session, q=q, status="approved", limit=12) if q.strip() else ([], 0)
    )
    placed = {i.course for i in plans.facts(session, plan)[0].items}
    return render(
        request,
        "plans/_search.html",
        {
            "plan": plan,
            "term": term,
            "q": q,
            "results": [courses.summary(c) for c in found],
            "total": total,
            "placed": placed,
            "revision": int(revision) if revision.isdigit() else plan.revision,
        },
    )


@router.post("/{plan_id}/items", response_class=HTMLResponse)
def plan_add_item(
    request: Request,
    principal: PlansWrite,
    session: SessionDep,
    plan_id: int,
    course_code: Annotated[str, Form(max_length=20)] = "",
    term: Annotated[str, Form(max_length=3)] = "",
    revision: Annotated[str, Form(max_length=12)] = "",
):
    plan = plans.get(session, plan_id)
    try:
        data = ItemIn.model_validate({"course_code": course_code.strip().upper(), "term": term})
        plans.add_item(session, plan, data, expected=_revision(revision), actor=principal.actor)
    except PlannerError as exc:
        return _failed(request, session, plan_id, principal, exc)
    except ValidationError as exc:
        return _board(
            request, session, plan, principal, status=422, message=None, errors=field_errors(exc)
        )
    return _after_write(request, session, plan_id, principal)


@router.post("/{plan_id}/items/{item_id}/move", response_class=HTMLResponse)
def plan_move_item(
    request: Request,
    principal: PlansWrite,
    session: SessionDep,
    plan_id: int,
    item_id: int,
    term: Annotated[int, Form(ge=1, le=12)],
    revision: Annotated[str, Form(max_length=12)] = "",
):
    plan = plans.get(session, plan_id)
    try:
        item = plans.get_item(session, plan, item_id)
        plans.update_item(
            session,
            plan,
            item,
            ItemUpdate(term=term),
            expected=_revision(revision),
            actor=principal.actor,
        )
    except PlannerError as exc:
        return _failed(request, session, plan_id, principal, exc)
    return _after_write(request, session, plan_id, principal)


@router.post("/{plan_id}/items/{item_id}/delete", response_class=HTMLResponse)
def plan_remove_item(
    request: Request,
    principal: PlansWrite,
    session: SessionDep,
    plan_id: int,
    item_id: int,
    revision: Annotated[str, Form(max_length=12)] = "",
):
    plan = plans.get(session, plan_id)
    try:
        item = plans.get_item(session, plan, item_id)
        plans.delete_item(session, plan, item, expected=_revision(revision), actor=principal.actor)
    except PlannerError as exc:
        return _failed(request, session, plan_id, principal, exc)
    return _after_write(request, session, plan_id, principal)


@router.post("/{plan_id}/transitions", response_class=HTMLResponse)
def plan_transition(
    request: Request,
    principal: PlansTransition,
    session: SessionDep,
    plan_id: int,
    action: Annotated[str, Form(max_length=20)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
    revision: Annotated[str, Form(max_length=12)] = "",
):
    plan = plans.get(session, plan_id)
    try:
        data = TransitionIn.model_validate({"action": action, "comment": comment})
        ensure(
            principal, Scope.plans_write if data.action == Action.submit else Scope.plans_approve
        )
        plan_workflow.transition(
            session, plan, data, expected=_revision(revision), actor=principal.actor
        )
    except PlannerError as exc:
        return _failed(request, session, plan_id, principal, exc)
    except ValidationError as exc:
        return _board(request, session, plan, principal, status=422, errors=field_errors(exc))
    return _after_write(request, session, plan_id, principal)


@router.post("/{plan_id}/versions", response_class=HTMLResponse)
def plan_new_version(
    request: Request,
    principal: PlansWrite,
    session: SessionDep,
    plan_id: int,
    academic_year: Annotated[str, Form(max_length=20)] = "",
):
    plan = plans.get(session, plan_id)
    try:
        data = VersionIn.model_validate({"academic_year": academic_year or None})
        copy = plan_workflow.new_version(session, plan, data, actor=principal.actor)
    except PlannerError as exc:
        return _failed(request, session, plan_id, principal, exc)
    except ValidationError as exc:
        return _board(request, session, plan, principal, status=422, errors=field_errors(exc))
    response = RedirectResponse(request.url_for("plan_detail", plan_id=copy.id), status_code=303)
    if is_htmx(request):
        response = HTMLResponse("", headers={"HX-Redirect": str(response.headers["location"])})
    return response


@router.get("/{plan_id}/diff", response_class=HTMLResponse)
def plan_diff_page(
    request: Request,
    principal: PlansRead,
    session: SessionDep,
    plan_id: int,
    against: Id | None = None,
):
    plan = plans.get(session, plan_id)
    versions = session.exec(
        select(Plan.id, Plan.version, Plan.academic_year, Plan.status)
        .where(Plan.code == plan.code)
        .order_by(Plan.version)
    ).all()
    if against is None:
        against = plan.previous_version_id or plan.id
    other = plans.get(session, against)
    return render(
        request,
        "plans/diff.html",
        {
            "plan": plan,
            "other": other,
            "diff": plan_workflow.diff(session, plan, other),
            "versions": versions,
        },
    )


def _revision(value: str) -> int | None:
    """The revision the form was rendered with; a form without one cannot overwrite blindly."""
    if not value.strip().isdigit():
        raise PreconditionFailed("The form did not say which version of the plan it edits.")
    return int(value)
