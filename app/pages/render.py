"""Template rendering shared by the page routers."""

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from app.config import get_settings
from app.security import csrf_token

templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
templates.env.globals["settings"] = get_settings
templates.env.globals["csrf_token"] = csrf_token


def render(
    request: Request,
    name: str,
    context: dict | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    ctx = {"principal": getattr(request.state, "principal", None), **(context or {})}
    response = templates.TemplateResponse(request, name, ctx, status_code=status, headers=headers)
    response.headers["Vary"] = "HX-Request"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def render_error(request: Request, *, status: int, title: str, detail: str) -> Response:
    return render(
        request, "error.html", {"title": title, "detail": detail, "status": status}, status=status
    )
