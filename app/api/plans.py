"""Curriculum plans API: plans, items, validation, workflow, versions, diff and coverage."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from app.api.coverage import MATRIX_FILES, FormatQuery, MatrixFormat, matrix_answer
from app.api.deps import ExpectedVersion, Limit, Offset, set_etag
from app.db import SessionDep
from app.models.accounts import Scope
from app.models.common import Level
from app.models.coverage import CoverageMatrix
from app.models.plans import (
    Action,
    ItemIn,
    ItemRead,
    ItemUpdate,
    Plan,
    PlanCreate,
    PlanDiff,
    PlanPage,
    PlanRead,
    PlanStatus,
    PlanUpdate,
    TransitionIn,
    Validation,
    VersionIn,
)
from app.security import PlansRead, PlansTransition, PlansWrite, ensure
from app.services import coverage, plan_workflow, plans

router = APIRouter(prefix="/api/v1/plans", tags=["plans"])

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
PROBLEMS = {
    400: {"description": "Malformed request"},
    404: {"description": "Unknown plan or item"},
    409: {"description": "Not allowed in the plan's status, or a conflicting code"},
    412: {"description": "Stale If-Match"},
    422: {"description": "Invalid fields"},
    428: {"description": "If-Match missing"},
}
WRITE = {k: PROBLEMS[k] for k in (400, 404, 409, 412, 422, 428)}


def load_plan(session: SessionDep, plan_id: Id) -> Plan:
    return plans.get(session, plan_id)


PlanDep = Annotated[Plan, Depends(load_plan)]


def _read(session, plan: Plan, response: Response) -> PlanRead:
    set_etag(response, plan.revision)
    return plans.detail(session, plan)


@router.get("", response_model=PlanPage)
def list_plans(
    principal: PlansRead,
    session: SessionDep,
    status: PlanStatus | None = None,
    audience: Level | None = None,
    code: Annotated[str | None, Query(max_length=64)] = None,
    academic_year: Annotated[str | None, Query(pattern=r"^\d{4}/\d{4}$")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PlanPage:
    items, total = plans.list_plans(
        session,
        status=status,
        audience=audience,
        code=code,
        academic_year=academic_year,
        limit=limit,
        offset=offset,
    )
    return PlanPage(items=items, total=total, limit=limit, offset=offset)


@router.post(
    "",
    response_model=PlanRead,
    status_code=status.HTTP_201_CREATED,
    responses={k: PROBLEMS[k] for k in (400, 409, 422)},
)
def create_plan(
    principal: PlansWrite,
    session: SessionDep,
    data: PlanCreate,
    response: Response,
) -> PlanRead:
    plan = plans.create(session, data, actor=principal.actor)
    response.headers["Location"] = f"/api/v1/plans/{plan.id}"
    return _read(session, plan, response)


@router.get("/{plan_id}", response_model=PlanRead, responses={404: PROBLEMS[404]})
def get_plan(
    principal: PlansRead,
    session: SessionDep,
    plan: PlanDep,
    response: Response,
) -> PlanRead:
    return _read(session, plan, response)


@router.patch("/{plan_id}", response_model=PlanRead, responses=WRITE)
def update_plan(
    principal: PlansWrite,
    session: SessionDep,
    plan: PlanDep,
    data: PlanUpdate,
    expected: ExpectedVersion,
    response: Response,
) -> PlanRead:
    plans.update_plan(session, plan, data, expected=expected, actor=principal.actor)
    return _read(session, plan, response)


@router.delete(
    "/{plan_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={k: PROBLEMS[k] for k in (404, 409, 412, 428)},
)
def delete_plan(
    principal: PlansWrite,
    session: SessionDep,
    plan: PlanDep,
    expected: ExpectedVersion,
) -> Response:
    plans.delete_plan(session, plan, expected=expected, actor=principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{plan_id}/items",
    response_model=ItemRead,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE,
)
def add_plan_item(
    principal: PlansWrite,
    session: SessionDep,
    plan: PlanDep,
    data: ItemIn,
    expected: ExpectedVersion,
    response: Response,
) -> ItemRead:
    item = plans.add_item(session, plan, data, expected=expected, actor=principal.actor)
    set_etag(response, plan.revision)
    return plans.read_item(session, plan, item.id)


@router.patch("/{plan_id}/items/{item_id}", response_model=ItemRead, responses=WRITE)
def update_plan_item(
    principal: PlansWrite,
    session: SessionDep,
    plan: PlanDep,
    item_id: Id,
    data: ItemUpdate,
    expected: ExpectedVersion,
    response: Response,
) -> ItemRead:
    item = plans.update_item(
        session,
        plan,
        plans.get_item(session, plan, item_id),
        data,
        expected=expected,
        actor=principal.actor,
    )
    set_etag(response, plan.revision)
    return plans.read_item(session, plan, item.id)


@router.delete(
    "/{plan_id}/items/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={k: PROBLEMS[k] for k in (404, 409, 412, 428)},
)
def delete_plan_item(
    principal: PlansWrite,
    session: SessionDep,
    plan: PlanDep,
    item_id: Id,
    expected: ExpectedVersion,
) -> Response:
    plans.delete_item(
        session,
        plan,
        plans.get_item(session, plan, item_id),
        expected=expected,
        actor=principal.actor,
    )
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    set_etag(response, plan.revision)
    return response


@router.get("/{plan_id}/validation", response_model=Validation, responses={404: PROBLEMS[404]})
def validate_plan(
    principal: PlansRead,
    session: SessionDep,
    plan: PlanDep,
) -> Validation:
    return plan_workflow.validate(session, plan)


@router.post("/{plan_id}/transitions", response_model=PlanRead, responses=WRITE)
def transition_plan(
    principal: PlansTransition,
    session: SessionDep,
    plan: PlanDep,
    data: TransitionIn,
    expected: ExpectedVersion,
    response: Response,
) -> PlanRead:
    ensure(principal, Scope.plans_write if data.action == Action.submit else Scope.plans_approve)
    plan_workflow.transition(session, plan, data, expected=expected, actor=principal.actor)
    return _read(session, plan, response)


@router.post(
    "/{plan_id}/versions",
    response_model=PlanRead,
    status_code=status.HTTP_201_CREATED,
    responses={k: PROBLEMS[k] for k in (400, 404, 409, 422)},
)
def create_plan_version(
    principal: PlansWrite,
    session: SessionDep,
    plan: PlanDep,
    response: Response,
    data: VersionIn | None = None,
) -> PlanRead:
    copy = plan_workflow.new_version(session, plan, data or VersionIn(), actor=principal.actor)
    response.headers["Location"] = f"/api/v1/plans/{copy.id}"
    return _read(session, copy, response)


@router.get("/{plan_id}/versions", response_model=PlanPage, responses={404: PROBLEMS[404]})
def list_plan_versions(
    principal: PlansRead,
    session: SessionDep,
    plan: PlanDep,
) -> PlanPage:
    items, total = plans.list_plans(session, code=plan.code, limit=500)
    return PlanPage(items=sorted(items, key=lambda p: p.version), total=total, limit=500, offset=0)


@router.get("/{plan_id}/diff", response_model=PlanDiff, responses={404: PROBLEMS[404]})
def diff_plan(
    principal: PlansRead,
    session: SessionDep,
    plan: PlanDep,
    against: Annotated[int, Query(ge=1, le=2**31 - 1)],
) -> PlanDiff:
    return plan_workflow.diff(session, plan, plans.get(session, against))


@router.get(
    "/{plan_id}/coverage",
    response_model=CoverageMatrix,
    responses={**MATRIX_FILES, 404: PROBLEMS[404]},
)
def plan_coverage(
    principal: PlansRead,
    session: SessionDep,
    plan: PlanDep,
    format: FormatQuery = MatrixFormat.json,
) -> Response:
    return matrix_answer(
        coverage.fold(session, plan_id=plan.id),
        format,
        stem=f"{plan.code}-v{plan.version}-coverage",
        scope=f"plan {plan.code} v{plan.version}, {plan.name}",
    )
