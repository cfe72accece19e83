"""Template rendering shared by the page routers: layout or fragment, language, CSRF."""

from pathlib import Path
from weakref import WeakKeyDictionary

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.datastructures import URL
from starlette.responses import Response
from starlette.routing import NoMatchFound

from app.config import get_settings
from app.i18n import locale_of, translations
from app.security import csrf_token

templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
templates.env.add_extension("jinja2.ext.i18n")
templates.env.globals["settings"] = get_settings
templates.env.globals["csrf_token"] = csrf_token
templates.env.install_null_translations(newstyle=True)
templates.env.policies["ext.i18n.trimmed"] = True

try:  # FastAPI 0.16x keeps included routers as branches; this walks them to their routes
    from fastapi.routing import iter_route_contexts
except ImportError:  # older releases copy every route into the application's list

    def iter_route_contexts(routes):
        return iter(routes)


_ROUTES: WeakKeyDictionary = WeakKeyDictionary()


def _route_named(app, name: str):
    """The first route of `app` called `name` (an index built once per application)."""
    index = _ROUTES.get(app)
    if index is None:
        index = {}
        for route in iter_route_contexts(app.router.routes):
            index.setdefault(getattr(route, "name", None), route)
        _ROUTES[app] = index
    return index.get(name)


@pass_context
def url_for(context, name: str, /, **path_params) -> URL:
    """`request.url_for` through a name index: the router's own lookup walks every route,
    which dominated pages that link hundreds of rows."""
    request: Request = context["request"]
    route = _route_named(request.app, name)
    if route is not None:
        try:
            return route.url_path_for(name, **path_params).make_absolute_url(request.base_url)
        except NoMatchFound:
            pass  # another route of the same name takes these parameters
    return request.url_for(name, **path_params)


templates.env.globals["url_for"] = url_for


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
