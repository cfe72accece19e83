"""Sign in, sign out, change password, and the first-run setup of the first admin."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.db import SessionDep
from app.errors import NotFound, PlannerError
from app.models.accounts import Role, UserCreate
from app.models.common import aware
from app.pages.forms import field_errors, parse, safe_next
from app.pages.render import render
from app.security import CurrentPrincipal, Forbidden, Unauthenticated, check_csrf, csrf_token
from app.services import accounts

router = APIRouter(tags=["pages"], include_in_schema=False)


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _start_session(request: Request, user) -> None:
    request.session.clear()  # a new session on every sign-in (no fixation)
    request.session["uid"] = user.id
    request.session["pwd"] = aware(user.password_changed_at).isoformat()
    csrf_token(request)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/"):
    return render(request, "login.html", {"next": safe_next(next), "errors": {}, "username": ""})


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
):
    ctx = {"next": safe_next(next), "username": username}
    try:
        user = accounts.authenticate(session, username, password, _client_address(request))
    except accounts.TooManyAttempts as exc:
        return render(
            request,
            "login.html",
            {**ctx, "errors": {"__all__": exc.detail}},
            status=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    except accounts.LoginFailed as exc:
        return render(request, "login.html", {**ctx, "errors": {"__all__": exc.detail}}, status=400)
    _start_session(request, user)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request):
    request.session.clear()
    return RedirectResponse("/", status_code=303)


def _user(principal: CurrentPrincipal) -> CurrentPrincipal:
    if principal.kind != "user":
        raise Unauthenticated("Sign in first.")
    return principal


SignedIn = Annotated[CurrentPrincipal, Depends(_user)]


@router.get("/account/password", response_class=HTMLResponse)
def password_form(request: Request, principal: SignedIn):
    return render(request, "password.html", {"errors": {}, "done": False})


@router.post("/account/password", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
def change_password(
    request: Request,
    session: SessionDep,
    principal: SignedIn,
    current_password: Annotated[str, Form(max_length=1000)] = "",
    new_password: Annotated[str, Form(max_length=1000)] = "",
    confirm_password: Annotated[str, Form(max_length=1000)] = "",
):
    if new_password != confirm_password:
        return render(
            request,
            "password.html",
            {"errors": {"confirm_password": "does not match"}, "done": False},
            status=422,
        )
    user = accounts.get_user(session, principal.name)
    try:
        accounts.change_password(
            session, user, current_password, new_password, actor=principal.actor
        )
    except PlannerError as exc:
        return render(
            request, "password.html", {"errors": field_errors(exc), "done": False}, status=422
        )
    _start_session(request, user)  # keep this session; others die with the old password
    return render(request, "password.html", {"errors": {}, "done": True})


@router.get("/setup", response_class=HTMLResponse)
def setup_form(request: Request, session: SessionDep, token: str = ""):
    if accounts.has_users(session):
        raise NotFound("The planner is set up already; sign in instead.")
    return render(request, "setup.html", {"token": token, "errors": {}, "values": {}})


@router.post("/setup", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
def setup(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form(max_length=200)] = "",
    username: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    confirm_password: Annotated[str, Form(max_length=1000)] = "",
):
    values = {"username": username, "display_name": display_name}
    data, errors = parse(UserCreate, {**values, "password": password, "role": Role.admin})
    if password != confirm_password:
        errors["confirm_password"] = "does not match"
    if errors:
        return render(
            request, "setup.html", {"token": token, "errors": errors, "values": values}, status=422
        )
    try:
        user = accounts.use_setup_token(session, token, data)
    except NotFound as exc:
        raise Forbidden(exc.detail) from exc
    _start_session(request, user)
    return RedirectResponse("/", status_code=303)
