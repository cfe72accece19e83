"""Who is asking and what they may do, enforced in one place for pages and API; web hardening.

A request is made by a staff user (signed session cookie), a machine client (bearer token) or
nobody. Roles grant permissions; tokens carry scopes, which are permissions. Every route names
the permission it needs through `require(...)`; a cookie-authenticated write must also carry the
session's CSRF token (form field `csrftoken` or header `X-CSRF-Token`).
"""

import hmac
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app.config import get_settings
from app.db import SessionDep
from app.errors import PlannerError
from app.models.accounts import Role, Scope, User
from app.models.common import aware
from app.services import accounts

ADMIN = "admin"  # users, clients, settings
AUDIT_READ = "audit:read"
PUBLIC_CATALOG = "catalog:public"  # the registry and approved, non-restricted courses

_READ = {Scope.catalog_read, Scope.plans_read, Scope.personnel_read, Scope.records_read}
ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.viewer: frozenset({*_READ, AUDIT_READ}),
    Role.planner: frozenset({*_READ, AUDIT_READ, Scope.catalog_write, Scope.plans_write}),
    Role.reviewer: frozenset({*_READ, AUDIT_READ, Scope.plans_approve}),
    Role.admin: frozenset({*Scope, AUDIT_READ, ADMIN}),
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
REALM = 'Bearer realm="planner"'


class Unauthenticated(PlannerError):
    status, title, slug = 401, "Authentication required", "unauthenticated"


class Forbidden(PlannerError):
    status, title, slug = 403, "Forbidden", "forbidden"


@dataclass(frozen=True)
class Principal:
    kind: str  # "user", "client" or "anonymous"
    name: str = ""
    permissions: frozenset[str] = field(default_factory=frozenset)
    role: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else self.kind

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous"

    def can(self, permission: str) -> bool:
        return permission in self.permissions or (
            permission == PUBLIC_CATALOG and Scope.catalog_read in self.permissions
        )

    @property
    def sees_all_courses(self) -> bool:
        return Scope.catalog_read in self.permissions


def anonymous() -> Principal:
    perms = frozenset({PUBLIC_CATALOG}) if get_settings().public_catalogue else frozenset()
    return Principal(kind="anonymous", permissions=perms)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Use `Authorization: Bearer <token>`.", www_authenticate=REALM)
    return token.strip()


def session_user(session: Session, request: Request) -> User | None:
    """The active user of the session cookie, if its password has not changed since login."""
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        return None
    user = session.get(User, uid)
    stamp = request.session.get("pwd")
    if user is None or not user.active or stamp != aware(user.password_changed_at).isoformat():
        request.session.pop("uid", None)
        return None
    return user


def get_principal(request: Request, session: SessionDep) -> Principal:
    principal = _resolve(request, session)
    request.state.principal = principal  # templates show who is signed in
    return principal


def _resolve(request: Request, session: Session) -> Principal:
    token = _bearer(request)
    if token is not None:
        client = accounts.resolve_token(session, token)
        if client is None:
            raise Unauthenticated(
                "The bearer token is unknown, revoked or expired.",
                www_authenticate=f'{REALM}, error="invalid_token"',
            )
        return Principal(kind="client", name=client.name, permissions=frozenset(client.scopes))
    user = session_user(session, request)
    if user is not None:
        return Principal(
            kind="user",
            name=user.username,
            role=user.role,
            permissions=ROLE_PERMISSIONS[Role(user.role)],
        )
    return anonymous()


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (templates call this for every form)."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def check_csrf(request: Request) -> None:
    """A cookie-authenticated or form write must echo the session's CSRF token."""
    expected = request.session.get("csrf", "")
    supplied = request.headers.get("x-csrf-token", "")
    if not supplied and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        supplied = str((await request.form()).get("csrftoken", ""))
    if not expected or not hmac.compare_digest(expected, supplied):
        raise Forbidden(
            "The form is stale or did not come from this site (CSRF check failed); reload and retry."
        )


def require(permission: str) -> Callable[..., Principal]:
    """A dependency that lets through only principals holding `permission`."""

    async def dependency(request: Request, principal: CurrentPrincipal) -> Principal:
        if not principal.can(permission):
            if not principal.authenticated:
                raise Unauthenticated("Sign in, or send a bearer token.", www_authenticate=REALM)
            extra = (
                {"www_authenticate": f'{REALM}, error="insufficient_scope", scope="{permission}"'}
                if principal.kind == "client"
                else {}
            )
            raise Forbidden(f"This needs the {permission!r} permission.", **extra)
        if principal.kind == "user" and request.method in UNSAFE:
            await check_csrf(request)
        return principal

    dependency.permission = permission  # read by the route x role test
    return dependency


# ---- ASGI middleware: headers, body size, log redaction ------------------------------------

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the security headers to every HTTP response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in SECURITY_HEADERS if k not in names
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses request bodies over the limit with 413, declared or streamed."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def _too_large(self, send):
        body = (
            b'{"type":"https://planner.example/problems/too-large","title":"Payload too large",'
            b'"status":413,"detail":"The request body exceeds the size limit."}'
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._too_large(send)
        if declared is not None or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        # A streamed body of unknown length: read it (up to the limit) before the app sees it.
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.limit:
                return await self._too_large(send)
            if not message.get("more_body"):
                break
        replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay_receive():
            return replay.pop() if replay else await receive()

        await self.app(scope, replay_receive, send)


class RedactSecrets(logging.Filter):
    """Keeps tokens out of access logs (setup links carry one in their query string)."""

    PATTERN = re.compile(r"(token=)[^&\s\"]+", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                self.PATTERN.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = self.PATTERN.sub(r"\1[redacted]", record.msg)
        return True


def require_any(*permissions: str) -> Callable[..., Principal]:
    """Lets through principals holding at least one of `permissions` (the handler narrows it)."""
    checks = [require(p) for p in permissions]

    async def dependency(request: Request, principal: CurrentPrincipal) -> Principal:
        last: PlannerError | None = None
        for check in checks:
            try:
                return await check(request, principal)
            except (Unauthenticated, Forbidden) as exc:
                last = exc
        assert last is not None
        raise last

    dependency.permission = permissions
    return dependency


def ensure(principal: Principal, permission: str) -> None:
    """Inside a handler: the principal must also hold `permission`."""
    if not principal.can(permission):
        raise Forbidden(f"This needs the {permission!r} permission.")


CatalogRead = Annotated[Principal, Depends(require(PUBLIC_CATALOG))]
CatalogWrite = Annotated[Principal, Depends(require(Scope.catalog_write))]
PlansRead = Annotated[Principal, Depends(require(Scope.plans_read))]
PlansWrite = Annotated[Principal, Depends(require(Scope.plans_write))]
PlansTransition = Annotated[Principal, Depends(require_any(Scope.plans_write, Scope.plans_approve))]
AuditRead = Annotated[Principal, Depends(require(AUDIT_READ))]
AdminOnly = Annotated[Principal, Depends(require(ADMIN))]


class RejectNul:
    """Refuses NUL characters in the path, query or a JSON body with 400: no database stores them.

    SCIM paths get a SCIM error body, everything else problem+json. Uploaded files (multipart)
    are not inspected: an XLSX file is a zip and holds NUL bytes legitimately.
    """

    def __init__(self, app):
        self.app = app

    async def _refuse(self, scope, send):
        if scope["path"].startswith("/scim/"):
            body = (
                b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400",'
                b'"scimType":"invalidValue","detail":"NUL characters are not allowed."}'
            )
            kind = b"application/scim+json"
        else:
            body = (
                b'{"type":"https://planner.example/problems/bad-request","title":"Bad request",'
                b'"status":400,"detail":"NUL characters are not allowed."}'
            )
            kind = b"application/problem+json"
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        if b"\x00" in scope["path"].encode() or b"%00" in raw_path or b"%00" in query:
            return await self._refuse(scope, send)
        headers = dict(scope.get("headers", []))
        if b"json" not in headers.get(b"content-type", b""):
            return await self.app(scope, receive, send)
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if b"\\u0000" in body or b"\x00" in body:
            return await self._refuse(scope, send)
        replay = [{"type": "http.request", "body": body, "more_body": False}]

        async def replay_receive():
            return replay.pop() if replay else await receive()

        await self.app(scope, replay_receive, send)
