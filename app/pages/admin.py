"""Administration: staff accounts and machine clients (scoped API tokens)."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import select

from app.db import SessionDep
from app.errors import PlannerError
from app.models.accounts import ApiClient, ClientCreate, Role, Scope, User, UserCreate
from app.pages.forms import field_errors, parse
from app.pages.render import render
from app.security import AdminOnly
from app.services import accounts

router = APIRouter(prefix="/admin", tags=["pages"], include_in_schema=False)


def _users_page(request, session, *, errors=None, values=None, status=200):
    users = session.exec(select(User).order_by(User.username)).all()
    return render(
        request,
        "admin_users.html",
        {"users": users, "roles": list(Role), "errors": errors or {}, "values": values or {}},
        status=status,
    )


def _clients_page(request, session, *, errors=None, values=None, status=200, token=None):
    clients = session.exec(select(ApiClient).order_by(ApiClient.name)).all()
    return render(
        request,
        "admin_clients.html",
        {
            "clients": clients,
            "scopes": list(Scope),
            "errors": errors or {},
            "values": values or {},
            "new_token": token,
        },
        status=status,
    )


@router.get("/users", response_class=HTMLResponse)
def list_users(
    principal: AdminOnly,
    request: Request,
    session: SessionDep,
):
    return _users_page(request, session)


@router.post("/users", response_class=HTMLResponse)
def create_user(
    principal: AdminOnly,
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
):
    values = {"username": username, "display_name": display_name, "role": role}
    data, errors = parse(UserCreate, {**values, "password": password})
    if not errors:
        try:
            accounts.create_user(session, data, actor=principal.actor)
        except PlannerError as exc:
            errors = field_errors(exc)
    if errors:
        return _users_page(request, session, errors=errors, values=values, status=422)
    return RedirectResponse(request.url_for("list_users"), status_code=303)


@router.post("/users/{username}/active", response_class=HTMLResponse)
def set_user_active(
    principal: AdminOnly,
    request: Request,
    session: SessionDep,
    username: str,
    active: Annotated[bool, Form()] = False,
):
    user = accounts.get_user(session, username)
    if user.username == principal.name and not active:
        return _users_page(
            request, session, errors={"__all__": "You cannot disable your own account."}, status=409
        )
    accounts.set_active(session, user, active, actor=principal.actor)
    return RedirectResponse(request.url_for("list_users"), status_code=303)


@router.get("/clients", response_class=HTMLResponse)
def list_clients(
    principal: AdminOnly,
    request: Request,
    session: SessionDep,
):
    return _clients_page(request, session)


@router.post("/clients", response_class=HTMLResponse)
def create_client(
    principal: AdminOnly,
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)] = "",
    scopes: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006 - FastAPI copies defaults
    expires_in_days: Annotated[str, Form(max_length=10)] = "",
):
    values = {"name": name, "scopes": scopes, "expires_in_days": expires_in_days.strip() or None}
    data, errors = parse(ClientCreate, values)
    token = None
    if not errors:
        try:
            _, token = accounts.create_client(session, data, actor=principal.actor)
        except PlannerError as exc:
            errors = field_errors(exc)
    # The token is shown once, on this answer only; it is stored hashed.
    return _clients_page(
        request,
        session,
        errors=errors,
        values=values if errors else {},
        status=422 if errors else 201,
        token=token,
    )


@router.post("/clients/{name}/revoke", response_class=HTMLResponse)
def revoke_client(
    principal: AdminOnly,
    request: Request,
    session: SessionDep,
    name: str,
):
    accounts.revoke_client(session, name, actor=principal.actor)
    return RedirectResponse(request.url_for("list_clients"), status_code=303)
