"""Template rendering shared by the page routers: layout or fragment, language, CSRF."""

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from app.config import get_settings
from app.i18n import locale_of, translations
from app.security import csrf_token

templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
templates.env.add_extension("jinja2.ext.i18n")
templates.env.globals["settings"] = get_settings
templates.env.globals["csrf_token"] = csrf_token
templates.env.install_null_translations(newstyle=True)
templates.env.policies["ext.i18n.trimmed"] = True


def _gettext(translate):
    def gettext(message: str, **variables) -> str:
        text = translate(message)
        return text % variables if variables else text

    return gettext


def _ngettext(translate):
    def ngettext(singular: str, plural: str, num: int, **variables) -> str:
        variables.setdefault("num", num)
        return translate(singular, plural, num) % variables

    return ngettext


def is_htmx(request: Request) -> bool:
    """An htmx swap wants a fragment; a history restore (Back after hx-push-url) wants the page."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


def render(
    request: Request,
    name: str,
    context: dict | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render a template; its `fragment` block alone when htmx asks (HX-Request)."""
    locale = locale_of(request)
    t = translations(locale)
    gettext = _gettext(t.gettext)
    ctx = {
        "principal": getattr(request.state, "principal", None),
        "locale": locale,
        "gettext": gettext,
        "ngettext": _ngettext(t.ngettext),
        "_": gettext,
        "htmx": is_htmx(request),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, ctx, status_code=status, headers=headers)
    response.headers["Vary"] = "HX-Request, Accept-Language, Cookie"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def render_error(request: Request, *, status: int, title: str, detail: str) -> Response:
    return render(
        request, "error.html", {"title": title, "detail": detail, "status": status}, status=status
    )
