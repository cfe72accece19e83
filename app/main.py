"""Application factory."""

import gc
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session
from starlette.middleware.sessions import SessionMiddleware

from app import errors
from app.api import audit, courses, coverage, hr, instruments, interchange, plans, scim
from app.api import case as case_api
from app.api import exports as export_api
from app.api import personnel as personnel_api
from app.api import records as records_api
from app.api import webhooks as webhooks_api
from app.config import get_settings
from app.db import get_engine
from app.pages import accounts, admin, catalogue, home
from app.pages import coverage as coverage_pages
from app.pages import instruments as instrument_pages
from app.pages import personnel as personnel_pages
from app.pages import plans as plan_pages
from app.pages import webhooks as webhook_pages
from app.pages.render import render
from app.security import BodyLimit, RedactSecrets, RejectNul, SecurityHeaders
from app.services import accounts as account_service

log = logging.getLogger("planner")

DESCRIPTION = """Curriculum planner for police and internal-affairs academies.

Courses are traced to the international instruments (down to article level) that they teach,
practise, assess or reference. Every error is an RFC 9457 `application/problem+json` document;
writes to an existing course or plan need `If-Match` with the ETag last read.

Machine clients authenticate with `Authorization: Bearer <token>` (scoped tokens made by an
admin); staff use the signed session cookie of the web pages, and then send the session's CSRF
token in `X-CSRF-Token` with every write. When the catalogue is public, the registry and the
approved, non-restricted courses can be read without signing in.
"""


@asynccontextmanager
def freeze_startup_objects() -> None:
    """Put what start-up loaded out of the cyclic collector's reach (`gc.freeze`). A full
    collection otherwise walks the ~170,000 objects of the loaded application: about 90 ms,
    whenever a large answer (the coverage matrix's 20,000 link rows) happens to trigger one."""
    gc.collect()
    gc.freeze()


async def lifespan(app: FastAPI):
    freeze_startup_objects()
    with Session(get_engine()) as session:
        token = account_service.ensure_first_admin(session)
    if token:
        s = get_settings()
        # Printed, never logged: the access-log filter redacts tokens anyway.
        print(
            f"\n  No users yet. Create the first admin at: http://{s.host}:{s.port}/setup?token={token}\n",
            flush=True,
        )
    yield


PROBLEM_SCHEMA = {
    "title": "Problem",
    "description": "RFC 9457 problem details; validation problems list every field error.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "loc", "message", "type"],
                "properties": {
                    "field": {"type": "string"},
                    "loc": {
                        "type": "array",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    },
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}


def _document_problems(app: FastAPI) -> None:
    """Every error of the JSON API is problem+json: say so in the OpenAPI document."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, operations in schema.get("paths", {}).items():
            if path.startswith("/scim/"):
                continue  # SCIM documents its own error bodies
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = {
                        "description": "Invalid input (every field error listed)",
                        "content": problem,
                    }
                responses.setdefault("default", {"description": "Error", "content": problem})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi


def create_app(*, first_run: bool = True) -> FastAPI:
    settings = get_settings()
    logging.getLogger("uvicorn.access").addFilter(RedactSecrets())
    app = FastAPI(
        title="Police Curriculum Planner",
        version="1.0.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan if first_run else None,
    )
    errors.install(app)
    for router in (
        instruments.router,
        courses.router,
        coverage.router,
        plans.router,
        export_api.router,
        audit.router,
        interchange.router,
        case_api.router,
        personnel_api.router,
        scim.router,
        records_api.router,
        webhooks_api.router,
        hr.router,
        home.router,
        catalogue.router,
        instrument_pages.router,
        plan_pages.router,
        coverage_pages.router,
        personnel_pages.router,
        webhook_pages.router,
        accounts.router,
        admin.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def swagger_ui_html(request: Request):
        return render(request, "docs.html")

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    _document_problems(app)
    # Outermost last: headers on every answer, the size limit before anything reads a body.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret(),
        session_cookie="planner_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(RejectNul)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app


app = create_app()
