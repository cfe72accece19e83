"""Staff accounts, machine clients (scoped API tokens), first-run setup and login throttling."""

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints
from pydantic import Field as PField
from sqlalchemy import JSON, Boolean, Column, String
from sqlmodel import Field, SQLModel

from app.models.common import UtcDateTime, utcnow


class Role(StrEnum):
    admin = "admin"
    planner = "planner"
    reviewer = "reviewer"
    viewer = "viewer"


class Scope(StrEnum):
    catalog_read = "catalog:read"
    catalog_write = "catalog:write"
    plans_read = "plans:read"
    plans_write = "plans:write"
    plans_approve = "plans:approve"
    personnel_read = "personnel:read"
    personnel_write = "personnel:write"
    records_read = "records:read"
    records_write = "records:write"
    webhooks_admin = "webhooks:admin"


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_type=String(64), unique=True, index=True)
    display_name: str = Field(default="", sa_type=String(200))
    role: Role = Field(sa_type=String(16))
    password_hash: str = Field(sa_type=String(255))
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, default=True))
    created_at: dt.datetime = Field(default_factory=utcnow)
    last_login_at: dt.datetime | None = None
    password_changed_at: dt.datetime = Field(default_factory=utcnow)


class ApiClient(SQLModel, table=True):
    __tablename__ = "api_client"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(120), unique=True, index=True)
    token_prefix: str = Field(sa_type=String(16), index=True)
    token_hash: str = Field(sa_type=String(64), unique=True)
    scopes: list[str] = Field(default_factory=list, sa_type=JSON)
    created_by: str = Field(default="", sa_type=String(120))
    created_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None


class SetupToken(SQLModel, table=True):
    __tablename__ = "setup_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_type=String(64), unique=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime
    used_at: dt.datetime | None = None


class LoginFailure(SQLModel, table=True):
    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_type=String(64), index=True)
    address: str = Field(sa_type=String(64), index=True)
    at: dt.datetime = Field(default_factory=utcnow, index=True)


# ---- API schemas -------------------------------------------------------------------------

Username = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$"),
]
Password = Annotated[str, StringConstraints(min_length=10, max_length=256)]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    role: Role
    password: Password


class UserRead(BaseModel):
    username: str
    display_name: str
    role: Role
    active: bool
    created_at: UtcDateTime
    last_login_at: UtcDateTime | None


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]{1,119}$"),
    ]
    scopes: Annotated[list[Scope], PField(min_length=1)]
    expires_in_days: Annotated[int, PField(ge=1, le=3650)] | None = None


class ClientRead(BaseModel):
    name: str
    token_prefix: str
    scopes: list[str]
    created_by: str
    created_at: UtcDateTime
    expires_at: UtcDateTime | None
    revoked_at: UtcDateTime | None
    last_used_at: UtcDateTime | None
