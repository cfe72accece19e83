"""Template rendering shared by the page routers."""

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from app.config import get_settings

templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
templates.env.globals["settings"] = get_settings


def render(request: Request, name: str, context: dict | None = None, status: int = 200) -> Response:
    response = templates.TemplateResponse(request, name, context or {}, status_code=status)
    response.headers["Vary"] = "HX-Request"
    return response


def render_error(request: Request, *, status: int, title: str, detail: str) -> Response:
    return render(request, "error.html", {"title": title, "detail": detail, "status": status}, status=status)
