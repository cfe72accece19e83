"""Property-based fuzzing of the whole API from its own OpenAPI document (schemathesis).

Every operation of `app.openapi()` is one test per backend. Cases come from three generators:
positive data (valid per the schema), negative data (invalid per the schema), and positive data
aimed at rows that exist (real course and instrument codes, plan, item and link ids, `If-Match:
*`), so that the success paths and their response bodies are exercised too, not only 404s.

Each response must pass: no 5xx, a documented status code, a documented content type and a body
matching the documented schema. Requests carry the all-scopes bearer token of the test suite;
operations that no token scope opens (admin, audit) are called as the signed-in admin instead.
They run on the per-test `app` fixture, whose database session is a transaction rolled back after
the test: the fuzzer's writes never reach other tests.

`test_edge_values` adds, per operation, the values a bounded fuzz run rarely draws: a NUL byte
in free-text parameters, -1 and 2**64 in unbounded integers.

App bugs found are listed in KNOWN_BUGS. The fuzz tests tolerate exactly those (operation,
check, status, backend and a predicate on the response); `test_known_bug_still_present`
reproduces each one on each operation it affects under `xfail(strict=True)`, so that fixing a
bug turns its tests into XPASS failures: then remove the entry here. BUG-1's operations are
read from the document itself (those still advertising FastAPI's default 422), and
`test_bug1_fixed_everywhere` XPASSes once none is left.

PLANNER_FUZZ_EXAMPLES (default 20) sets the examples per operation for a deeper run.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup
from sqlalchemy import text

from app.main import create_app
from app.models.accounts import Scope
from app.security import PUBLIC_CATALOG
from tests.conftest import TOKENS

APP = create_app(first_run=False)
SPEC = APP.openapi()
SCHEMA = schemathesis.openapi.from_dict(SPEC)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
CHECKS: list[Callable] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = int(os.environ.get("PLANNER_FUZZ_EXAMPLES", "20"))


def _permissions(route: APIRoute) -> set[str]:
    found: set[str] = set()

    def walk(dependant) -> None:
        permission = getattr(dependant.call, "permission", None)
        if permission:
            found.update(permission if isinstance(permission, tuple) else [permission])
        for sub in dependant.dependencies:
            walk(sub)

    walk(route.dependant)
    return found


def _api_routes(routes) -> list[APIRoute]:
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # FastAPI's included router
            found += _api_routes(route.original_router.routes)
    return found


def _staff_only() -> set[str]:
    """Operations that no token scope opens (admin, audit:read): fuzzed as the signed-in admin."""
    by_token = {s.value for s in Scope} | {PUBLIC_CATALOG}
    return {
        f"{method} {route.path}"
        for route in _api_routes(APP.routes)
        if route.include_in_schema
        for method in route.methods
        if (needed := _permissions(route)) and not needed & by_token
    }


SIGNED_IN_AS_ADMIN = _staff_only()


def _rows(db, sql: str, **params: Any) -> list[tuple]:
    return [tuple(r) for r in db.connection().execute(text(sql), params).all()]


def _content_type(response) -> str:
    value = response.headers.get("content-type")
    value = value[0] if isinstance(value, list) else value or ""
    return value.split(";")[0].strip()


# ---- known app bugs ------------------------------------------------------------------------

Request = dict[str, Any]  # method, url and httpx keyword arguments
JSON = "application/json"


@dataclass(frozen=True)
class KnownBug:
    id: str
    summary: str
    # label -> db -> a request that shows the bug on that operation
    operations: dict[str, Callable[[Any], Request]]
    checks: frozenset[str]
    statuses: frozenset[int]
    applies: Callable[[Any, Any], bool] = field(default=lambda response, db: True)
    backends: frozenset[str] = frozenset({"sqlite", "postgresql"})

    def covers(self, label: str, check: str, case, response, db) -> bool:
        return (
            db.get_bind().dialect.name in self.backends
            and label in self.operations
            and check in self.checks
            and response.status_code in self.statuses
            and self.applies(response, db)
        )


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return _resolve(options[0]) if options else schema


def _invalid_value(schema: dict) -> str | None:
    """A value that the parameter's schema refuses, or None when it accepts any string."""
    schema = _resolve(schema)
    if "maxLength" in schema:
        return "0" * (schema["maxLength"] + 1)
    if "enum" in schema or "const" in schema:
        return "not-a-listed-value"
    if schema.get("type") in ("integer", "number"):
        return "abc"
    if schema.get("type") == "boolean":
        return "maybe"
    if schema.get("format") in ("date", "date-time"):
        return "not-a-date"
    if "pattern" in schema:
        return "!"
    return None


def _invalid_request(label: str) -> Callable[[Any], Request]:
    """A request that the operation's documented parameters refuse (so the app answers 422)."""
    method, path = label.split(" ", 1)
    spec = SPEC["paths"][path][method.lower()]
    url, query, headers, refused = path, {}, {}, False
    for param in spec.get("parameters", []):
        name, where = param["name"], param["in"]
        bad = _invalid_value(param["schema"])
        if where == "path":
            url = url.replace("{" + name + "}", bad if bad is not None else "x")
            refused = refused or bad is not None
        elif where == "header" and name == "If-Match":
            headers["If-Match"] = "*"
        elif where == "query" and bad is not None and not refused:
            query[name], refused = bad, True
    request: Request = {"method": method, "url": url, "params": query, "headers": headers}
    if not refused:
        request["json"] = ["an array, not the documented object"]
    return lambda db: request


def _problem_json(response, db) -> bool:
    return _content_type(response) == "application/problem+json"


def _scim_error(response, db) -> bool:
    return (
        _content_type(response) == "application/scim+json"
        and "urn:ietf:params:scim:api:messages:2.0:Error" in response.text
    )


def _course_in_a_plan(response, db) -> bool:
    code = str(response.request.url).rstrip("/").rsplit("/", 1)[-1]
    sql = "SELECT 1 FROM plan_item i JOIN course c ON c.id = i.course_id WHERE c.code = :code"
    return bool(_rows(db, sql, code=code))


def _delete_a_course_in_a_plan(db) -> Request:
    sql = (
        "SELECT c.code FROM course c WHERE EXISTS (SELECT 1 FROM plan_item i"
        " WHERE i.course_id = c.id) AND NOT EXISTS (SELECT 1 FROM course_prerequisite p"
        " WHERE p.prerequisite_id = c.id) ORDER BY c.code"
    )
    code = _rows(db, sql)[0][0]
    return {"method": "DELETE", "url": f"/api/v1/courses/{code}", "headers": {"If-Match": "*"}}


def _req(method: str, url: str, **kwargs: Any) -> Callable[[Any], Request]:
    return lambda db: {"method": method, "url": url, **kwargs}


def _documents_fastapi_422(label: str) -> bool:
    method, path = label.split(" ", 1)
    content = SPEC["paths"][path][method.lower()]["responses"].get("422", {}).get("content", {})
    ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
    return ref.endswith("/HTTPValidationError")


# The SCIM routes turn validation errors into SCIM 400s (documented): they never answer 422.
BUG1_OPERATIONS = [
    op.label
    for op in OPERATIONS
    if _documents_fastapi_422(op.label) and not op.path.startswith("/scim/")
]


def _nul(method: str, url: str, params: dict[str, str] | None = None) -> Callable[[Any], Request]:
    """The request with "{nul}" in its URL or parameters standing for a string holding NUL."""
    params = {k: v.replace("{nul}", "a\x00b") for k, v in (params or {}).items()}
    return _req(method, url.replace("{nul}", "a%00b"), params=params)


# Bugs the fuzzer found, all fixed since: each request stays as a regression test below, and
# the fuzz runs tolerate nothing (KNOWN_BUGS is empty; add an entry only while a fix is pending).
FIXED_BUGS = [
    KnownBug(
        id="BUG-1",
        summary=(
            "422 documented as FastAPI's default HTTPValidationError (application/json, `detail`"
            " a list), but the RequestValidationError handler in app/errors.py answers"
            " application/problem+json with `detail` a string and an `errors` list"
        ),
        operations={label: _invalid_request(label) for label in BUG1_OPERATIONS},
        checks=frozenset({"content_type_conformance", "response_schema_conformance"}),
        statuses=frozenset({422}),
        applies=_problem_json,
    ),
    KnownBug(
        id="BUG-2",
        summary=(
            "DELETE of a course that a plan item uses is not refused with 409: the RESTRICT"
            " foreign key plan_item.course_id fails at DELETE FROM course (IntegrityError) -> 500"
        ),
        operations={"DELETE /api/v1/courses/{code}": _delete_a_course_in_a_plan},
        checks=frozenset({"not_a_server_error", "status_code_conformance"}),
        statuses=frozenset({500}),
        applies=_course_in_a_plan,
    ),
    KnownBug(
        id="BUG-3",
        summary=(
            "a body that is not JSON answers 400 (problem+json, 'Malformed JSON'), a status"
            " these operations do not document"
        ),
        operations={
            label: _req(*label.split(" ", 1), content=b"{not json", headers={"Content-Type": JSON})
            for label in ("POST /api/v1/imports/case", "POST /api/v1/admin/restore")
        },
        checks=frozenset({"status_code_conformance"}),
        statuses=frozenset({400}),
        applies=_problem_json,
    ),
    KnownBug(
        id="BUG-4",
        summary=(
            "a multipart body that does not parse answers 400 (problem+json, 'Invalid multipart"
            " data.'), a status these operations do not document"
        ),
        operations={
            label: _req(
                *label.split(" ", 1),
                content=b"--b\r\nnot a part--b--\r\n",
                headers={"Content-Type": "multipart/form-data; boundary=b"},
            )
            for label in ("POST /api/v1/imports/courses", "POST /api/v1/imports/instruments")
        },
        checks=frozenset({"status_code_conformance"}),
        statuses=frozenset({400}),
        applies=_problem_json,
    ),
    KnownBug(
        id="BUG-5",
        summary=(
            "SCIM list with startIndex beyond a 64-bit integer -> 500 (SQLite: OverflowError"
            " 'Python int too large to convert to SQLite INTEGER'; PostgreSQL: 'bigint out of"
            " range') instead of a SCIM 400"
        ),
        operations={
            f"GET /scim/v2/{kind}": _req("GET", f"/scim/v2/{kind}", params={"startIndex": 2**64})
            for kind in ("Users", "Groups")
        },
        checks=frozenset({"not_a_server_error", "status_code_conformance"}),
        statuses=frozenset({500}),
        applies=lambda response, db: "startIndex=" in str(response.request.url),
    ),
    KnownBug(
        id="BUG-6",
        summary=(
            "PostgreSQL only: a NUL byte in a string query or path parameter reaches the"
            " database (psycopg DataError 'PostgreSQL text fields cannot contain NUL (0x00)"
            " bytes') -> 500 instead of 404/422"
        ),
        operations={
            "GET /api/v1/courses": _nul("GET", "/api/v1/courses", params={"instrument": "{nul}"}),
            "GET /api/v1/plans": _nul("GET", "/api/v1/plans", params={"code": "{nul}"}),
            "GET /api/v1/audit": _nul("GET", "/api/v1/audit", params={"actor": "{nul}"}),
            "GET /api/v1/people": _nul("GET", "/api/v1/people", params={"q": "{nul}"}),
            "GET /api/v1/people/{key}": _nul("GET", "/api/v1/people/{nul}"),
            "GET /api/v1/units": _nul("GET", "/api/v1/units", params={"q": "{nul}"}),
            "GET /api/v1/units/{unit_id}": _nul("GET", "/api/v1/units/{nul}"),
            "GET /scim/v2/Users/{user_id}": _nul("GET", "/scim/v2/Users/{nul}"),
            "DELETE /scim/v2/Users/{user_id}": _nul("DELETE", "/scim/v2/Users/{nul}"),
            "GET /scim/v2/Groups/{group_id}": _nul("GET", "/scim/v2/Groups/{nul}"),
            "DELETE /scim/v2/Groups/{group_id}": _nul("DELETE", "/scim/v2/Groups/{nul}"),
        },
        checks=frozenset({"not_a_server_error", "status_code_conformance"}),
        statuses=frozenset({500}),
        applies=lambda response, db: "%00" in str(response.request.url),
        backends=frozenset({"postgresql"}),
    ),
]
KNOWN_BUGS: list[KnownBug] = []


# ---- helpers -------------------------------------------------------------------------------


def no_reraise(app):
    """The ASGI app, minus the re-raise after a 500 was sent (as TestClient's
    raise_server_exceptions=False): the fuzzer sees the 500 as a response, as a client would."""

    async def wrapped(scope, receive, send):
        started = False

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, receive, tracking_send)
        except Exception:
            if not started:
                raise

    return wrapped


@pytest.fixture
def credentials(backend, browser_as):
    """label -> (headers, cookies) of the caller for that operation."""
    admin = None

    def _for(label: str) -> tuple[dict[str, str], dict[str, str]]:
        nonlocal admin
        if label not in SIGNED_IN_AS_ADMIN:
            return {"Authorization": f"Bearer {TOKENS[backend]}"}, {}
        if admin is None:
            admin = browser_as("admin")
        cookies = {"planner_session": admin.cookies.get("planner_session")}
        return {"X-CSRF-Token": admin.headers["X-CSRF-Token"]}, cookies

    return _for


def _existing_path_parameters(db, path: str) -> list[dict[str, Any]]:
    """Path parameters naming rows that exist, for the operations whose parameters we know."""
    if path.startswith("/api/v1/instruments/{code}"):
        return [{"code": c} for (c,) in _rows(db, "SELECT code FROM instrument ORDER BY code")]
    if path == "/api/v1/courses/{code}/links/{link_id}":
        sql = (
            "SELECT c.code, l.id FROM course_link l JOIN course c ON c.id = l.course_id"
            " ORDER BY l.id"
        )
        return [{"code": c, "link_id": i} for c, i in _rows(db, sql)]
    if path.startswith("/api/v1/courses/{code}"):
        return [{"code": c} for (c,) in _rows(db, "SELECT code FROM course ORDER BY code")]
    if path == "/api/v1/plans/{plan_id}/items/{item_id}":
        sql = "SELECT plan_id, id FROM plan_item ORDER BY id"
        return [{"plan_id": p, "item_id": i} for p, i in _rows(db, sql)]
    if path.startswith("/api/v1/plans/{plan_id}"):
        return [{"plan_id": p} for (p,) in _rows(db, "SELECT id FROM plan ORDER BY id")]
    return []


def _strategy(operation, db):
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    names = {p.name for p in operation.path_parameters}
    existing = _existing_path_parameters(db, operation.path) if names else []
    if existing and all(names <= set(e) for e in existing):
        has_if_match = any(h.name == "If-Match" for h in operation.headers)
        has_against = any(q.name == "against" for q in operation.query)
        plan_ids = [p for (p,) in _rows(db, "SELECT id FROM plan ORDER BY id")]

        def aimed(params: dict[str, Any], against: int | None = None):
            return operation.as_strategy(
                GenerationMode.POSITIVE,
                path_parameters=params,
                headers={"If-Match": "*"} if has_if_match else None,
                query={"against": against} if against is not None else None,
            )

        if has_against and plan_ids:
            pairs = st.tuples(st.sampled_from(existing), st.sampled_from(plan_ids))
            strategies.append(pairs.flatmap(lambda pair: aimed(*pair)))
        else:
            strategies.append(st.sampled_from(existing).flatmap(aimed))
    return st.one_of(strategies)


def _failures(case, response, check) -> list[Failure]:
    try:
        case.validate_response(response, checks=[check])
    except FailureGroup as group:
        return list(group.exceptions)
    except Failure as failure:
        return [failure]
    return []


def _describe(request: str, response, failures: list[Failure]) -> str:
    return "\n".join(
        [
            f"{request} -> {response.status_code} {_content_type(response)}",
            *(f"  [{f.title}] {f.message}" for f in failures),
            f"  response body: {response.text[:800]}",
        ]
    )


# ---- the fuzz tests ------------------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_fuzz_operation(operation, app, db, credentials):
    label = operation.label
    asgi = no_reraise(app)
    headers, cookies = credentials(label)

    # No shrinking: a failure is reported with its full request and response as found, in
    # seconds rather than minutes; derandomize makes every run send the same cases.
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        phases=[Phase.explicit, Phase.generate],
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation, db))
    def run(case):
        response = case.call(app=asgi, headers=headers, cookies=cookies)
        for check in CHECKS:
            failures = _failures(case, response, check)
            if failures and not any(
                bug.covers(label, check.__name__, case, response, db) for bug in KNOWN_BUGS
            ):
                raise AssertionError(_describe(case.as_curl_command(), response, failures))

    run()


EDGE_STRING = "a\x00b"  # PostgreSQL text cannot hold NUL
EDGE_INTEGERS = (-1, 2**64)  # below zero; beyond any database integer


def _edge_cases(operation, db) -> list:
    """One case per parameter and edge value the parameter's schema allows (the fuzzer rarely
    draws them): a NUL byte in free strings, -1 and 2**64 in unbounded integers."""
    existing = _existing_path_parameters(db, operation.path)
    path = {
        p.name: (existing[0] if existing else {}).get(p.name, "x")
        for p in operation.path_parameters
    }
    spec = SPEC["paths"][operation.path][operation.method.lower()].get("parameters", [])
    required = {p["name"]: 1 for p in spec if p["in"] == "query" and p.get("required")}
    cases = []
    for param in spec:
        where, name, schema = param["in"], param["name"], _resolve(param["schema"])
        if where not in ("path", "query"):
            continue
        values: tuple = ()
        if schema.get("type") == "string" and not ({"enum", "pattern", "format"} & set(schema)):
            values = (EDGE_STRING,)
        elif schema.get("type") == "integer":
            lo, hi = schema.get("minimum"), schema.get("maximum")
            values = tuple(
                v for v in EDGE_INTEGERS if (lo is None or v >= lo) and (hi is None or v <= hi)
            )
        for value in values:
            if where == "path":
                parameters, query = {**path, name: value}, required
            else:
                parameters, query = path, {**required, name: value}
            cases.append(operation.Case(path_parameters=parameters, query=query))
    return cases


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_edge_values(operation, app, db, credentials):
    label = operation.label
    asgi = no_reraise(app)
    headers, cookies = credentials(label)
    found = []
    for case in _edge_cases(operation, db):
        response = case.call(app=asgi, headers=headers, cookies=cookies)
        for check in CHECKS:
            failures = _failures(case, response, check)
            if failures and not any(
                bug.covers(label, check.__name__, case, response, db) for bug in KNOWN_BUGS
            ):
                found.append(_describe(case.as_curl_command(), response, failures))
                break
    assert not found, "\n\n".join(found)


def test_fuzz_covers_the_whole_api():
    """Nothing is filtered out: every documented operation is fuzzed (the API only, not pages)."""
    documented = {
        f"{method.upper()} {path}" for path, ops in SPEC["paths"].items() for method in ops
    }
    assert {op.label for op in OPERATIONS} == documented
    assert not [p for p in SPEC["paths"] if p.startswith(("/docs", "/static"))]
    assert {label for bug in FIXED_BUGS + KNOWN_BUGS for label in bug.operations} <= documented


# ---- fixed app bugs: each reproduction must now pass every check ----------------------------


@pytest.mark.parametrize(
    "bug, label",
    [
        pytest.param(bug, label, id=f"{bug.id} {label}")
        for bug in FIXED_BUGS
        for label in bug.operations
    ],
)
def test_fixed_bug_stays_fixed(bug, label, app, db, backend, credentials):
    method, path = label.split(" ", 1)
    request = dict(bug.operations[label](db))
    headers, cookies = credentials(label)
    request["headers"] = {**headers, **request.get("headers", {})}
    with TestClient(app, raise_server_exceptions=False, cookies=cookies) as client:
        response = client.request(**request)
    shown = f"{request['method']} {response.request.url}"
    assert response.status_code < 500, _describe(shown, response, [])
    operation = SCHEMA[path][method]
    case = operation.Case(path_parameters={p.name: "x" for p in operation.path_parameters})
    failures = [f for check in CHECKS for f in _failures(case, response, check)]
    assert not failures, _describe(shown, response, failures)


def test_422_is_documented_as_problem_json_everywhere():
    """Every operation documents its 422 as the problem+json the handler answers."""
    assert BUG1_OPERATIONS == []
