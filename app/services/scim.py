"""SCIM 2.0 (RFC 7643/7644) over the personnel services: resource models, mapping, search, PATCH.

The resource models and the schemas they publish come from scim2-models; the planner adds one
extension per resource for what police academies track (rank, position, audience level,
language certificates; the kind and parent of a unit). Writes go through app.services.personnel,
so that SCIM, audit and the pages share one set of rules.
"""

import copy
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationError
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    Context,
    EnterpriseUser,
    ETag,
    Extension,
    Filter,
    Group,
    InvalidValueException,
    ListResponse,
    Meta,
    Mutability,
    Patch,
    PatchOp,
    Required,
    ResourceType,
    ScimPolicy,
    ScimProvider,
    SearchRequest,
    ServiceProviderConfig,
    Sort,
    User,
)
from scim2_models.attributes import ComplexAttribute
from scim2_models.urn import URN
from sqlmodel import Session, col, func, select

from app.db import is_postgres
from app.models.common import Cefr, Level
from app.models.personnel import OrgUnit, Person, PersonIn, UnitIn, UnitKind
from app.services import personnel, scim_filter
from app.services.scim_filter import ACADEMY_GROUP, ACADEMY_USER, ENTERPRISE

MAX_RESULTS = 1000
DEFAULT_COUNT = 100
_lower = BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v)
_upper = BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v)


class Language(ComplexAttribute):
    """A language the person speaks, with the CEFR level a certificate attests."""

    value: Annotated[str | None, Required.true] = None  # ISO 639-1 code
    cefr_level: Annotated[Cefr | None, _upper] = None
    certificate_date: str | None = None  # YYYY-MM-DD
    certificate_expires_on: str | None = None  # YYYY-MM-DD


class UnitReference(ComplexAttribute):
    value: Annotated[str | None, Required.true, CaseExact.true] = None
    display: Annotated[str | None, Mutability.read_only] = None


class AcademyUser(Extension):
    """What an academy tracks about an officer beyond the enterprise extension."""

    __schema__ = URN(ACADEMY_USER)

    rank: str | None = None
    position: str | None = None
    level: Annotated[Level | None, _lower] = None  # the audience level of training
    languages: list[Language] | None = None


class AcademyGroup(Extension):
    """Whether a group is an organisational unit or a training cohort, and where it sits."""

    __schema__ = URN(ACADEMY_GROUP)

    kind: Annotated[UnitKind | None, Mutability.immutable, _lower] = None
    parent: UnitReference | None = None


UserResource = User[EnterpriseUser | AcademyUser]
GroupResource = Group[AcademyGroup]
POLICY = ScimPolicy(
    # What Microsoft Entra sends: `remove` with a value, and filters naming entries to create.
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)
CONFIG = ServiceProviderConfig(
    documentation_uri="https://planner.example/docs#scim",
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=MAX_RESULTS),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=True),
    etag=ETag(supported=True),
    authentication_schemes=[
        AuthenticationScheme(
            type="oauthbearertoken",
            name="Bearer token",
            description="A scoped API token made by an administrator (personnel:read, personnel:write).",
            primary=True,
        )
    ],
)
PROVIDER = ScimProvider(
    models=[User, EnterpriseUser, AcademyUser, Group, AcademyGroup],
    resource_types=[
        ResourceType.from_resource(UserResource),
        ResourceType.from_resource(GroupResource),
    ],
    config=CONFIG,
    policy=POLICY,
)


def etag(version: int) -> str:
    return f'W/"{version}"'


# ---- errors --------------------------------------------------------------------------------


def _invalid(exc: ValidationError) -> InvalidValueException:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return InvalidValueException(detail=f"{first['msg']}: {where}" if where else first["msg"])


# ---- people as SCIM Users --------------------------------------------------------------------


def user_resource(person: Person, rel: personnel.Related, base: str) -> Any:
    """The SCIM User of a person; `rel` holds what the page of people refers to."""
    manager = rel.managers.get(person.manager_id) if person.manager_id else None
    user = UserResource(
        id=person.scim_id,
        external_id=person.external_id,
        user_name=person.user_name,
        name={"given_name": person.given_name, "family_name": person.family_name}
        if person.given_name or person.family_name
        else None,
        display_name=person.display_name,
        title=person.title,
        active=person.active,
        emails=list(person.emails) or None,
        groups=[
            {"value": g.scim_id, "ref": f"{base}/Groups/{g.scim_id}", "display": g.display_name}
            for g in rel.groups[person.id]
        ]
        or None,
        meta=Meta(
            resource_type="User",
            created=person.created_at,
            last_modified=person.updated_at,
            location=f"{base}/Users/{person.scim_id}",
            version=etag(person.version),
        ),
    )
    enterprise = EnterpriseUser(
        employee_number=person.employee_number,
        organization=person.organization,
        division=person.division,
        department=person.department,
        manager={
            "value": manager.scim_id,
            "ref": f"{base}/Users/{manager.scim_id}",
            "display_name": manager.name,
        }
        if manager
        else None,
    )
    if enterprise.model_dump(exclude_none=True, exclude={"schemas"}):
        user[EnterpriseUser] = enterprise
    languages = [
        Language(
            value=lang.language,
            cefr_level=lang.cefr_level,
            certificate_date=lang.certificate_date.isoformat() if lang.certificate_date else None,
            certificate_expires_on=lang.certificate_expires_on.isoformat()
            if lang.certificate_expires_on
            else None,
        )
        for lang in rel.languages[person.id]
    ]
    academy = AcademyUser(
        rank=person.rank, position=person.position, level=person.level, languages=languages or None
    )
    if academy.model_dump(exclude_none=True, exclude={"schemas"}):
        user[AcademyUser] = academy
    return user


def person_in(user: Any) -> PersonIn:
    """What a validated SCIM User asks the planner to store."""
    enterprise = user[EnterpriseUser] or EnterpriseUser()
    academy = user[AcademyUser] or AcademyUser()
    try:
        return PersonIn(
            user_name=user.user_name,
            external_id=user.external_id,
            given_name=user.name.given_name if user.name else None,
            family_name=user.name.family_name if user.name else None,
            display_name=user.display_name,
            emails=[
                {"value": str(e.value), "type": e.type, "primary": e.primary}
                for e in user.emails or []
                if e.value
            ],
            active=user.active if user.active is not None else True,
            title=user.title,
            employee_number=enterprise.employee_number,
            organization=enterprise.organization,
            division=enterprise.division,
            department=enterprise.department,
            manager=enterprise.manager.value if enterprise.manager else None,
            rank=academy.rank,
            position=academy.position,
            level=academy.level,
            languages=[
                {
                    "language": lang.value,
                    "cefr_level": lang.cefr_level,
                    "certificate_date": lang.certificate_date,
                    "certificate_expires_on": lang.certificate_expires_on,
                }
                for lang in academy.languages or []
            ],
        )
    except ValidationError as exc:
        raise _invalid(exc) from None


def _with_manager_ref(body: Any, base: str) -> Any:
    """Clients send manager as {"value": id} or a bare id; the schema wants a `$ref` too."""

    def fix(manager: Any) -> Any:
        if manager == "" or manager == {"value": ""}:
            return None  # Entra clears the manager with an empty value
        if isinstance(manager, str):
            manager = {"value": manager}
        if isinstance(manager, dict) and manager.get("value") and "$ref" not in manager:
            manager = {**manager, "$ref": f"{base}/Users/{manager['value']}"}
        return manager

    body = copy.deepcopy(body)
    if not isinstance(body, dict):
        return body
    ext = body.get(ENTERPRISE)
    if isinstance(ext, dict) and "manager" in ext:
        ext["manager"] = fix(ext["manager"])
    if f"{ENTERPRISE}:manager" in body:
        body[f"{ENTERPRISE}:manager"] = fix(body[f"{ENTERPRISE}:manager"])
    for op in body.get("Operations") or []:
        if not isinstance(op, dict):
            continue
        path = str(op.get("path") or "").lower()
        if path.endswith(f"{ENTERPRISE}:manager".lower()):
            op["value"] = fix(op.get("value"))
        elif isinstance(op.get("value"), dict):
            op["value"] = _with_manager_ref(op["value"], base)
    return body


def parse_user(body: Any, ctx: Context, base: str) -> Any:
    return UserResource.model_validate(
        _with_manager_ref(body, base), scim_ctx=ctx, scim_policy=POLICY
    )


def load_user(session: Session, scim_id: str, base: str) -> tuple[Person, Any]:
    person = personnel.get_person(session, scim_id)
    return person, user_resource(person, personnel.related(session, [person]), base)


def create_user(session: Session, body: Any, *, base: str, actor: str) -> Person:
    user = parse_user(body, Context.RESOURCE_CREATION_REQUEST, base)
    return personnel.create_person(session, person_in(user), actor=actor)


def replace_user(
    session: Session, scim_id: str, body: Any, *, expected: int | None, base: str, actor: str
) -> Person:
    """PUT: the body replaces every attribute; read-only ones are kept, immutable ones checked."""
    person, current = load_user(session, scim_id, base)
    wanted = parse_user(body, Context.RESOURCE_REPLACEMENT_REQUEST, base)
    wanted.replace(current)
    return personnel.replace_person(
        session, person, person_in(wanted), expected=expected, actor=actor
    )


def patch_user(
    session: Session, scim_id: str, body: Any, *, expected: int | None, base: str, actor: str
) -> Person:
    """PATCH: the operations apply to the current User, then the result is stored."""
    person, user = load_user(session, scim_id, base)
    personnel.check_version(person.version, expected)
    operations = PatchOp[UserResource].model_validate(
        _with_manager_ref(body, base), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
    )
    operations.patch(user, scim_policy=POLICY)
    return personnel.replace_person(
        session, person, person_in(user), expected=expected, actor=actor
    )


def search_users(session: Session, request: Any) -> tuple[list[Person], int]:
    """One page of current people matching the request's filter, in its order."""
    stmt = select(Person).where(col(Person.deleted_at).is_(None))
    if request.filter:
        stmt = stmt.where(
            scim_filter.where(scim_filter.USERS, request.filter, pg=is_postgres(session))
        )
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    order = scim_filter.order_by(
        scim_filter.USERS, request.sort_binding(UserResource), _descending(request)
    )
    rows = session.exec(
        stmt.order_by(*order, Person.id).offset(request.start_index_0 or 0).limit(_count(request))
    ).all()
    return list(rows), total


def _descending(request: Any) -> bool:
    return request.sort_order is not None and str(request.sort_order.value) == "descending"


def _count(request: Any) -> int:
    return DEFAULT_COUNT if request.count is None else min(request.count, MAX_RESULTS)


# A startIndex past any possible row still answers an empty page (RFC 7644 3.4.2.4), but must
# not reach the database as a number it cannot hold.
MAX_START_INDEX = 2**31


def search_request(model: Any, params: dict[str, Any]) -> Any:
    """The SearchRequest of a GET query string or a POST /.search body."""
    start = params.get("startIndex") if isinstance(params, dict) else None
    if isinstance(start, int) and start > MAX_START_INDEX:
        params = {**params, "startIndex": MAX_START_INDEX}
    return SearchRequest[model].model_validate(params, scim_ctx=Context.SEARCH_REQUEST)


def list_response(model: Any, resources: list[Any], total: int, request: Any) -> dict:
    return ListResponse[model](
        total_results=total,
        start_index=(request.start_index_0 or 0) + 1,
        items_per_page=len(resources),
        resources=resources,
    ).model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=request)


def dump(resource: Any, params: Any = None, ctx: Context = Context.RESOURCE_QUERY_RESPONSE) -> dict:
    return resource.model_dump(scim_ctx=ctx, response_parameters=params)


def user_page(session: Session, request: Any, base: str) -> dict:
    people, total = search_users(session, request)
    rel = personnel.related(session, people)
    users = [user_resource(p, rel, base) for p in people]
    return list_response(UserResource, users, total, request)


# ---- units and cohorts as SCIM Groups -------------------------------------------------------


def group_resource(
    unit: OrgUnit, members: list[Person] | None, parent: OrgUnit | None, base: str
) -> Any:
    """The SCIM Group of a unit; members None when the client excluded them."""
    group = GroupResource(
        id=unit.scim_id,
        external_id=unit.external_id,
        display_name=unit.display_name,
        members=[
            {
                "value": p.scim_id,
                "ref": f"{base}/Users/{p.scim_id}",
                "type": "User",
                "display": p.name,
            }
            for p in members or []
        ]
        or None,
        meta=Meta(
            resource_type="Group",
            created=unit.created_at,
            last_modified=unit.updated_at,
            location=f"{base}/Groups/{unit.scim_id}",
            version=etag(unit.version),
        ),
    )
    group[AcademyGroup] = AcademyGroup(
        kind=unit.kind,
        parent={"value": parent.scim_id, "display": parent.display_name} if parent else None,
    )
    return group


def unit_in(group: Any) -> UnitIn:
    academy = group[AcademyGroup] or AcademyGroup()
    try:
        return UnitIn(
            display_name=group.display_name,
            external_id=group.external_id,
            kind=academy.kind or UnitKind.unit,
            parent=academy.parent.value if academy.parent else None,
            members=[m.value for m in group.members or [] if m.value],
        )
    except ValidationError as exc:
        raise _invalid(exc) from None


def wants_members(params: Any) -> bool:
    """Whether the response shows members (large units: clients exclude them)."""
    if params is None:
        return True

    def named(paths) -> set[str]:
        return {str(p).rsplit(":", 1)[-1].split(".")[0].lower() for p in paths or []}

    if params.attributes:
        return "members" in named(params.attributes)
    return "members" not in named(params.excluded_attributes)


def groups_page(session: Session, units: list[OrgUnit], base: str, with_members: bool) -> list:
    """SCIM Groups of a page of units: members and parents in two queries."""
    people = personnel.members(session, units) if with_members else {}
    parents = personnel.parents(session, units)
    return [
        group_resource(
            u, people.get(u.id, []) if with_members else None, parents.get(u.parent_id), base
        )
        for u in units
    ]


def load_group(session: Session, scim_id: str, base: str, with_members: bool = True):
    unit = personnel.get_unit(session, scim_id)
    return unit, groups_page(session, [unit], base, with_members)[0]


def create_group(session: Session, body: Any, *, actor: str) -> OrgUnit:
    group = GroupResource.model_validate(
        body, scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=POLICY
    )
    return personnel.create_unit(session, unit_in(group), actor=actor)


def replace_group(
    session: Session, scim_id: str, body: Any, *, expected: int | None, base: str, actor: str
) -> OrgUnit:
    unit, current = load_group(session, scim_id, base)
    wanted = GroupResource.model_validate(
        body, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST, scim_policy=POLICY
    )
    wanted.replace(current)
    return personnel.replace_unit(session, unit, unit_in(wanted), expected=expected, actor=actor)


def patch_group(
    session: Session, scim_id: str, body: Any, *, expected: int | None, base: str, actor: str
) -> OrgUnit:
    unit, group = load_group(session, scim_id, base)
    personnel.check_version(unit.version, expected)
    operations = PatchOp[GroupResource].model_validate(
        body, scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
    )
    operations.patch(group, scim_policy=POLICY)
    return personnel.replace_unit(session, unit, unit_in(group), expected=expected, actor=actor)


def search_groups(session: Session, request: Any) -> tuple[list[OrgUnit], int]:
    stmt = select(OrgUnit).where(col(OrgUnit.deleted_at).is_(None))
    if request.filter:
        stmt = stmt.where(
            scim_filter.where(scim_filter.GROUPS, request.filter, pg=is_postgres(session))
        )
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    order = scim_filter.order_by(
        scim_filter.GROUPS, request.sort_binding(GroupResource), _descending(request)
    )
    rows = session.exec(
        stmt.order_by(*order, OrgUnit.id).offset(request.start_index_0 or 0).limit(_count(request))
    ).all()
    return list(rows), total


def group_page(session: Session, request: Any, base: str) -> dict:
    units, total = search_groups(session, request)
    groups = groups_page(session, units, base, wants_members(request))
    return list_response(GroupResource, groups, total, request)


# ---- discovery (RFC 7644 §4) ----------------------------------------------------------------


def service_provider_config(base: str) -> dict:
    config = CONFIG.model_copy(
        update={
            "meta": Meta(
                resource_type="ServiceProviderConfig", location=f"{base}/ServiceProviderConfig"
            )
        }
    )
    return config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)


def resource_types(base: str) -> list[dict]:
    out = []
    for rt in PROVIDER.resource_types:
        rt = rt.model_copy(
            update={
                "meta": Meta(resource_type="ResourceType", location=f"{base}/ResourceTypes/{rt.id}")
            }
        )
        out.append(rt.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    return out


def schemas(base: str) -> list[dict]:
    out = []
    for schema in PROVIDER.schemas:
        schema = schema.model_copy(
            update={"meta": Meta(resource_type="Schema", location=f"{base}/Schemas/{schema.id}")}
        )
        out.append(schema.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    return out


def discovery_list(items: list[dict]) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": len(items),
        "startIndex": 1,
        "itemsPerPage": len(items),
        "Resources": items,
    }
