"""Application factory."""

import logging

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from pathlib import Path

from app import errors
from app.api import courses, coverage, instruments, plans
from app.config import get_settings
from app.pages import home

DESCRIPTION = """Curriculum planner for police and internal-affairs academies.

Courses are traced to the international instruments (down to article level) that they teach,
practise, assess or reference. Every error is an RFC 9457 `application/problem+json` document;
writes to an existing course need `If-Match` with the ETag last read.
"""


def create_app() -> FastAPI:
    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper())
    app = FastAPI(title="Police Curriculum Planner", version="1.0.0", description=DESCRIPTION)
    errors.install(app)
    for router in (instruments.router, courses.router, coverage.router, plans.router, home.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


app = create_app()
