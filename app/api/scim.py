"""SCIM 2.0 service provider (RFC 7644) at /scim/v2: Users, Groups and discovery.

Every answer, errors included, is `application/scim+json`; an error is a SCIM Error message
(with `scimType` where RFC 7644 §3.12 defines one), also for the 401 and 403 of authentication.
Reads need personnel:read and writes personnel:write.
"""

import json
import logging
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, ValidationError
from scim2_models import (
    Context,
    Error,
    InvalidSyntaxException,
    InvalidValueException,
    NotFoundException,
    PreconditionFailedException,
    ResponseParameters,
    SCIMException,
)
from sqlmodel import Session
from starlette.exceptions import HTTPException

from app.db import SessionDep
from app.errors import PlannerError
from app.models.accounts import Scope
from app.security import Principal, require
from app.services import personnel, scim

log = logging.getLogger("planner")
SCIM = "application/scim+json"
_ETAG = re.compile(r'\s*(?:W/)?"(\d+)"\s*')


# Domain errors as SCIM errors: a taken key is `uniqueness`, a refused value `invalidValue`.
_SCIM_TYPES = {409: "uniqueness", 422: "invalidValue", 400: "invalidValue"}


class ScimResponse(JSONResponse):
    media_type = SCIM


def error_of(exc: Exception) -> Error:
    """The SCIM Error message for any failure of a SCIM request."""
    if isinstance(exc, HTTPException):
        return Error(status=exc.status_code, detail=str(exc.detail))
    if isinstance(exc, SCIMException):
        return exc.to_error()
    if isinstance(exc, ValidationError):
        return Error.from_validation_errors(exc)[0]
    if isinstance(exc, PlannerError):
        status = 400 if exc.status == 422 else exc.status
        return Error(status=status, scim_type=_SCIM_TYPES.get(exc.status), detail=exc.detail)
    raise exc


def error_response(exc: Exception) -> Response:
    error = error_of(exc)
    headers = {"Cache-Control": "no-store"}
    if isinstance(exc, PlannerError) and "www_authenticate" in exc.extra:
        headers["WWW-Authenticate"] = exc.extra["www_authenticate"]
    return ScimResponse(
        error.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE),
        status_code=error.status or 400,
        headers=headers,
    )


class ScimRoute(APIRoute):
    """Turns every failure of a SCIM route (auth and validation included) into a SCIM Error."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def scim_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first.get("loc", ()))
                return error_response(InvalidValueException(detail=f"{first.get('msg')}: {where}"))
            except (SCIMException, ValidationError, PlannerError, HTTPException) as exc:
                session = getattr(request.state, "scim_session", None)
                if session is not None:
                    session.rollback()  # what a failed use case flushed is undone
                return error_response(exc)

        return scim_handler


router = APIRouter(
    prefix="/scim/v2", tags=["scim"], route_class=ScimRoute, default_response_class=ScimResponse
)

Reader = Annotated[Principal, Depends(require(Scope.personnel_read))]
Writer = Annotated[Principal, Depends(require(Scope.personnel_write))]
ScimId = Annotated[str, Path(min_length=1, max_length=64)]
BODY = {
    "requestBody": {
        "required": True,
        "content": {
            SCIM: {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


class ScimErrorMessage(BaseModel):
    """How the OpenAPI document shows a SCIM Error message (RFC 7644 §3.12)."""

    schemas: list[str]
    status: str
    scim_type: str | None = Field(None, alias="scimType")
    detail: str | None = None


WHY = {
    400: "Invalid filter, path, value or syntax (see scimType)",
    401: "No valid bearer token",
    403: "The token lacks the scope",
    404: "No such resource",
    409: "userName or employeeNumber taken (scimType uniqueness)",
    412: "If-Match names another version",
}


def answers(ok: int, *errors: int) -> dict:
    """The documented answers of a SCIM operation: its success and its SCIM Error messages."""
    out: dict = {ok: {"description": "Done", "content": {SCIM: {"schema": {"type": "object"}}}}}
    if ok == 204:
        out[ok] = {"description": "Done"}
    for status in (400, 401, 403, *errors):
        out[status] = {"description": WHY[status], "model": ScimErrorMessage}
    return out


ANSWERS = answers(200)
ONE = answers(200, 404) | {304: {"description": "Not modified (If-None-Match)"}}
CREATED = answers(201, 409)
CHANGED = answers(200, 404, 409, 412)
GONE = answers(204, 404, 412)


def scim_session(request: Request, session: SessionDep) -> Session:
    request.state.scim_session = session
    return session


ScimSession = Annotated[Session, Depends(scim_session)]


async def scim_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise InvalidSyntaxException(detail="The request body is not valid JSON.") from None


Body = Annotated[Any, Depends(scim_body)]


def expected(if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> int | None:
    """The version named by If-Match (optional in SCIM); `*` or none means any version."""
    if if_match is None or not if_match.strip() or if_match.strip() == "*":
        return None
    match = _ETAG.fullmatch(if_match)
    if match is None:
        raise PreconditionFailedException(detail="If-Match must carry one ETag of this resource.")
    return int(match.group(1))


Expected = Annotated[int | None, Depends(expected)]


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + router.prefix


def answer(
    content: Any, *, status: int = 200, version: int | None = None, location: str | None = None
) -> Response:
    headers = {"Cache-Control": "no-store"}
    if version is not None:
        headers["ETag"] = scim.etag(version)
    if location:
        headers["Location"] = location
    return ScimResponse(content, status_code=status, headers=headers)


def not_modified(request: Request, version: int) -> bool:
    return request.headers.get("if-none-match", "").strip() == scim.etag(version)


class ListParams:
    """The query parameters of a list (RFC 7644 §3.4.2), in their SCIM spelling."""

    def __init__(
        self,
        filter: Annotated[str | None, Query(max_length=4000)] = None,
        sort_by: Annotated[str | None, Query(alias="sortBy", max_length=200)] = None,
        sort_order: Annotated[str | None, Query(alias="sortOrder", max_length=20)] = None,
        start_index: Annotated[int | None, Query(alias="startIndex")] = None,
        count: Annotated[int | None, Query()] = None,
        attributes: Annotated[str | None, Query(max_length=2000)] = None,
        excluded: Annotated[str | None, Query(alias="excludedAttributes", max_length=2000)] = None,
    ):
        self.values = {
            "filter": filter,
            "sortBy": sort_by,
            "sortOrder": sort_order,
            "startIndex": start_index,
            "count": count,
            "attributes": attributes,
            "excludedAttributes": excluded,
        }

    def search(self, model: Any) -> Any:
        return scim.search_request(model, {k: v for k, v in self.values.items() if v is not None})


class ShowParams:
    def __init__(
        self,
        attributes: Annotated[str | None, Query(max_length=2000)] = None,
        excluded: Annotated[str | None, Query(alias="excludedAttributes", max_length=2000)] = None,
    ):
        self.values = {"attributes": attributes, "excludedAttributes": excluded}

    def of(self, model: Any) -> Any:
        return ResponseParameters[model].model_validate(
            {k: v for k, v in self.values.items() if v is not None}
        )


Listing = Annotated[ListParams, Depends()]
Showing = Annotated[ShowParams, Depends()]


# ---- discovery ---------------------------------------------------------------------------------


@router.get("/ServiceProviderConfig", response_model=None, responses=ANSWERS)
def scim_service_provider_config(principal: Reader, request: Request) -> Response:
    return answer(scim.service_provider_config(base_url(request)))


@router.get("/ResourceTypes", response_model=None, responses=ANSWERS)
def scim_resource_types(principal: Reader, request: Request) -> Response:
    return answer(scim.discovery_list(scim.resource_types(base_url(request))))


@router.get("/ResourceTypes/{name}", response_model=None, responses=answers(200, 404))
def scim_resource_type(principal: Reader, request: Request, name: ScimId) -> Response:
    for item in scim.resource_types(base_url(request)):
        if item["id"].lower() == name.lower():
            return answer(item)
    raise NotFoundException(detail=f"No resource type {name}.")


@router.get("/Schemas", response_model=None, responses=ANSWERS)
def scim_schemas(principal: Reader, request: Request) -> Response:
    return answer(scim.discovery_list(scim.schemas(base_url(request))))


@router.get("/Schemas/{schema_id}", response_model=None, responses=answers(200, 404))
def scim_schema(
    principal: Reader, request: Request, schema_id: Annotated[str, Path(max_length=200)]
) -> Response:
    for item in scim.schemas(base_url(request)):
        if item["id"].lower() == schema_id.lower():
            return answer(item)
    raise NotFoundException(detail=f"No schema {schema_id}.")


# ---- Users -------------------------------------------------------------------------------------


@router.get("/Users", response_model=None, responses=ANSWERS)
def scim_list_users(
    principal: Reader, session: ScimSession, request: Request, params: Listing
) -> Response:
    search = params.search(scim.UserResource)
    return answer(scim.user_page(session, search, base_url(request)))


@router.post("/Users/.search", response_model=None, responses=ANSWERS, openapi_extra=BODY)
def scim_search_users(
    principal: Reader, session: ScimSession, request: Request, body: Body
) -> Response:
    search = scim.search_request(scim.UserResource, body)
    return answer(scim.user_page(session, search, base_url(request)))


def _user_answer(session, request, person, params=None, status=200) -> Response:
    base = base_url(request)
    resource = scim.user_resource(person, personnel.related(session, [person]), base)
    location = f"{base}/Users/{person.scim_id}" if status == 201 else None
    return answer(
        scim.dump(resource, params), status=status, version=person.version, location=location
    )


@router.post("/Users", status_code=201, response_model=None, responses=CREATED, openapi_extra=BODY)
def scim_create_user(
    principal: Writer, session: ScimSession, request: Request, body: Body
) -> Response:
    person = scim.create_user(session, body, base=base_url(request), actor=principal.actor)
    return _user_answer(session, request, person, status=201)


@router.get("/Users/{user_id}", response_model=None, responses=ONE)
def scim_get_user(
    principal: Reader, session: ScimSession, request: Request, user_id: ScimId, params: Showing
) -> Response:
    person = personnel.get_person(session, user_id)
    if not_modified(request, person.version):
        return Response(status_code=304, headers={"ETag": scim.etag(person.version)})
    return _user_answer(session, request, person, params.of(scim.UserResource))


@router.put("/Users/{user_id}", response_model=None, responses=CHANGED, openapi_extra=BODY)
def scim_replace_user(
    principal: Writer,
    session: ScimSession,
    request: Request,
    user_id: ScimId,
    body: Body,
    version: Expected,
) -> Response:
    person = scim.replace_user(
        session, user_id, body, expected=version, base=base_url(request), actor=principal.actor
    )
    return _user_answer(session, request, person)


@router.patch("/Users/{user_id}", response_model=None, responses=CHANGED, openapi_extra=BODY)
def scim_patch_user(
    principal: Writer,
    session: ScimSession,
    request: Request,
    user_id: ScimId,
    body: Body,
    version: Expected,
) -> Response:
    person = scim.patch_user(
        session, user_id, body, expected=version, base=base_url(request), actor=principal.actor
    )
    return _user_answer(session, request, person)


@router.delete("/Users/{user_id}", status_code=204, response_model=None, responses=GONE)
def scim_delete_user(
    principal: Writer, session: ScimSession, user_id: ScimId, version: Expected
) -> Response:
    person = personnel.get_person(session, user_id)
    personnel.delete_person(session, person, expected=version, actor=principal.actor)
    return Response(status_code=204)


# ---- Groups ------------------------------------------------------------------------------------


@router.get("/Groups", response_model=None, responses=ANSWERS)
def scim_list_groups(
    principal: Reader, session: ScimSession, request: Request, params: Listing
) -> Response:
    search = params.search(scim.GroupResource)
    return answer(scim.group_page(session, search, base_url(request)))


@router.post("/Groups/.search", response_model=None, responses=ANSWERS, openapi_extra=BODY)
def scim_search_groups(
    principal: Reader, session: ScimSession, request: Request, body: Body
) -> Response:
    search = scim.search_request(scim.GroupResource, body)
    return answer(scim.group_page(session, search, base_url(request)))


def _group_answer(session, request, unit, params=None, status=200) -> Response:
    base = base_url(request)
    group = scim.groups_page(session, [unit], base, scim.wants_members(params))[0]
    location = f"{base}/Groups/{unit.scim_id}" if status == 201 else None
    return answer(scim.dump(group, params), status=status, version=unit.version, location=location)


@router.post("/Groups", status_code=201, response_model=None, responses=CREATED, openapi_extra=BODY)
def scim_create_group(
    principal: Writer, session: ScimSession, request: Request, body: Body
) -> Response:
    unit = scim.create_group(session, body, actor=principal.actor)
    return _group_answer(session, request, unit, status=201)


@router.get("/Groups/{group_id}", response_model=None, responses=ONE)
def scim_get_group(
    principal: Reader, session: ScimSession, request: Request, group_id: ScimId, params: Showing
) -> Response:
    unit = personnel.get_unit(session, group_id)
    if not_modified(request, unit.version):
        return Response(status_code=304, headers={"ETag": scim.etag(unit.version)})
    return _group_answer(session, request, unit, params.of(scim.GroupResource))


@router.put("/Groups/{group_id}", response_model=None, responses=CHANGED, openapi_extra=BODY)
def scim_replace_group(
    principal: Writer,
    session: ScimSession,
    request: Request,
    group_id: ScimId,
    body: Body,
    version: Expected,
) -> Response:
    unit = scim.replace_group(
        session, group_id, body, expected=version, base=base_url(request), actor=principal.actor
    )
    return _group_answer(session, request, unit)


@router.patch("/Groups/{group_id}", response_model=None, responses=CHANGED, openapi_extra=BODY)
def scim_patch_group(
    principal: Writer,
    session: ScimSession,
    request: Request,
    group_id: ScimId,
    body: Body,
    version: Expected,
) -> Response:
    unit = scim.patch_group(
        session, group_id, body, expected=version, base=base_url(request), actor=principal.actor
    )
    return _group_answer(session, request, unit)


@router.delete("/Groups/{group_id}", status_code=204, response_model=None, responses=GONE)
def scim_delete_group(
    principal: Writer, session: ScimSession, group_id: ScimId, version: Expected
) -> Response:
    unit = personnel.get_unit(session, group_id)
    personnel.delete_unit(session, unit, expected=version, actor=principal.actor)
    return Response(status_code=204)
