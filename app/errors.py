"""One error tree, rendered as RFC 9457 problem+json for the API and error.html for pages."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("planner")

PROBLEM = "application/problem+json"
TYPE_BASE = "https://planner.example/problems/"  # stable identifiers, documented in README


class PlannerError(Exception):
    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra


class NotFound(PlannerError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(PlannerError):
    status, title, slug = 409, "Conflict", "conflict"


class Invalid(PlannerError):
    status, title, slug = 422, "Validation failed", "validation"


class PreconditionFailed(PlannerError):
    status, title, slug = 412, "Precondition failed", "stale"


class PreconditionRequired(PlannerError):
    status, title, slug = 428, "Precondition required", "if-match-required"


class Busy(PlannerError):
    status, title, slug = 503, "Busy", "busy"


def field_error(loc: list[str | int] | tuple, message: str, kind: str = "value_error") -> dict:
    """One field error in the shape every 422 uses."""
    path = [str(p) for p in loc]
    return {"field": ".".join(path), "loc": list(loc), "message": message, "type": kind}


def problem(
    status: int, title: str, detail: str, slug: str, *, instance: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"Retry-After": "1"} if status == 503 else None
    if status in (401, 403, 404):
        headers = {"Cache-Control": "no-store"}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path.startswith("/openapi") or path.startswith("/docs"):
        return False
    return "text/html" in request.headers.get("accept", "")


def _render(
    request: Request, status: int, title: str, detail: str, slug: str, **extra: Any
) -> Response:
    if _wants_html(request):
        from app.pages.render import render_error

        return render_error(request, status=status, title=title, detail=detail)
    return problem(status, title, detail, slug, instance=request.url.path, **extra)


def _validation_errors(exc: RequestValidationError) -> list[dict]:
    out = []
    for err in exc.errors():
        loc = [p for p in err.get("loc", ()) if p not in ("body",)] or list(err.get("loc", ()))
        out.append(field_error(loc, err.get("msg", "invalid"), err.get("type", "value_error")))
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(PlannerError)
    async def _planner_error(request: Request, exc: PlannerError) -> Response:
        extra = dict(exc.extra)
        headers = {}
        if "www_authenticate" in extra:
            headers["WWW-Authenticate"] = extra.pop("www_authenticate")
        if getattr(exc, "retry_after", None):
            headers["Retry-After"] = str(exc.retry_after)
        if exc.status == 401 and _wants_html(request):
            from urllib.parse import quote

            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        response = _render(
            request, exc.status, exc.title, exc.detail, exc.slug, errors=exc.errors, **extra
        )
        response.headers.update(headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = _validation_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            return _render(
                request,
                400,
                "Malformed JSON",
                "The request body is not valid JSON.",
                "malformed-json",
                errors=errors,
            )
        return _render(
            request,
            422,
            "Validation failed",
            f"{len(errors)} field(s) failed validation.",
            "validation",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed", 400: "Bad request"}
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
        resp = _render(
            request,
            exc.status_code,
            titles.get(exc.status_code, "Error"),
            detail,
            f"http-{exc.status_code}",
        )
        if exc.headers:
            resp.headers.update(exc.headers)
        return resp

    @app.exception_handler(OperationalError)
    async def _db_busy(request: Request, exc: OperationalError) -> Response:
        # A locked SQLite file or a lost PostgreSQL connection: tell the client to retry.
        log.warning("database unavailable: %s", exc.orig)
        return _render(request, 503, "Busy", "The database is busy; retry shortly.", "busy")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _render(request, 500, "Internal error", "An unexpected error occurred.", "internal")
