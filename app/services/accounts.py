"""Staff accounts and machine clients: passwords, tokens, first-run setup, login throttling."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import bindparam, delete, func, or_, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from app.config import get_settings
from app.errors import Conflict, Invalid, NotFound, PlannerError, field_error
from app.models.accounts import (
    ApiClient,
    ClientCreate,
    LoginFailure,
    Role,
    SetupToken,
    User,
    UserCreate,
)
from app.models.common import aware, utcnow
from app.services import audit

hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the user does not exist, so that both failures cost the same time.
_DUMMY_HASH = hasher.hash("not-a-real-password-" + secrets.token_hex(8))
TOKEN_PREFIX = "pcp_"


class TooManyAttempts(PlannerError):
    status, title, slug = 429, "Too many attempts", "throttled"

    def __init__(self, retry_after: int):
        super().__init__(f"Too many failed logins; try again in {retry_after} seconds.")
        self.retry_after = retry_after


class LoginFailed(PlannerError):
    status, title, slug = 401, "Login failed", "login-failed"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---- users -------------------------------------------------------------------------------


def create_user(session: Session, data: UserCreate, *, actor: str) -> User:
    """A new staff account; usernames are unique, case-insensitively."""
    if session.exec(select(User.id).where(User.username == data.username)).first() is not None:
        raise Conflict(
            f"User {data.username!r} exists.", errors=[field_error(["username"], "already in use")]
        )
    user = User(
        username=data.username,
        display_name=data.display_name,
        role=data.role,
        password_hash=hasher.hash(data.password),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="user",
        key=user.username,
        after={"role": user.role, "display_name": user.display_name},
    )
    session.commit()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username.lower())).first()
    if user is None:
        raise NotFound(f"No user {username!r}.")
    return user


def set_active(session: Session, user: User, active: bool, *, actor: str) -> None:
    """Disable (or re-enable) an account; a disabled account cannot log in or use its session."""
    before = user.active
    user.active = active
    session.add(user)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="user",
        key=user.username,
        before={"active": before},
        after={"active": active},
    )
    session.commit()


def change_password(session: Session, user: User, current: str, new: str, *, actor: str) -> None:
    """A new password, given the current one."""
    if not hasher.verify(current, user.password_hash):
        raise Invalid(
            "The current password is wrong.",
            errors=[field_error(["current_password"], "wrong password")],
        )
    if len(new) < 10:
        raise Invalid(
            "Too short.", errors=[field_error(["new_password"], "at least 10 characters")]
        )
    user.password_hash = hasher.hash(new)
    user.password_changed_at = utcnow()
    session.add(user)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="user",
        key=user.username,
        after={"password": "changed"},
    )
    session.commit()


def _recent_failures(session: Session, column, value: str, since) -> tuple[int, object]:
    return session.exec(
        select(func.count(), func.min(LoginFailure.at)).where(
            column == value, col(LoginFailure.at) >= since
        )
    ).one()


def check_throttle(session: Session, username: str, address: str) -> None:
    """Too many recent failures for this account or this address -> 429 with Retry-After."""
    s = get_settings()
    now = utcnow()
    since = now - timedelta(seconds=s.login_window_seconds)
    for column, value, limit in (
        (LoginFailure.username, username, s.login_max_failures_per_account),
        (LoginFailure.address, address, s.login_max_failures_per_address),
    ):
        count, oldest = _recent_failures(session, column, value, since)
        if count >= limit:
            retry = (
                int(
                    (
                        aware(oldest) + timedelta(seconds=s.login_window_seconds) - now
                    ).total_seconds()
                )
                + 1
            )
            raise TooManyAttempts(max(retry, 1))


def authenticate(session: Session, username: str, password: str, address: str) -> User:
    """The active user with this password; one answer for unknown user and wrong password."""
    username = username.strip().lower()[:64]
    check_throttle(session, username, address)
    user = session.exec(select(User).where(User.username == username)).first()
    ok = hasher.verify(password, user.password_hash if user else _DUMMY_HASH)
    if not (user and ok and user.active):
        session.add(LoginFailure(username=username, address=address[:64]))
        session.commit()
        raise LoginFailed("Unknown user or wrong password.")
    session.execute(delete(LoginFailure).where(col(LoginFailure.username) == username))
    user.last_login_at = utcnow()
    session.add(user)
    session.commit()
    return user


# ---- first-run setup ---------------------------------------------------------------------


def has_users(session: Session) -> bool:
    return session.exec(select(User.id).limit(1)).first() is not None


def ensure_first_admin(session: Session) -> str | None:
    """With no users: create the admin from PLANNER_ADMIN_PASSWORD, or return a one-time setup token."""
    if has_users(session):
        return None
    s = get_settings()
    if s.admin_password:
        create_user(
            session,
            UserCreate(
                username=s.admin_username,
                role=Role.admin,
                password=s.admin_password.get_secret_value(),
                display_name="Administrator",
            ),
            actor="setup",
        )
        return None
    token = secrets.token_urlsafe(32)
    session.add(SetupToken(token_hash=digest(token), expires_at=utcnow() + timedelta(hours=24)))
    session.commit()
    return token


def use_setup_token(session: Session, token: str, data: UserCreate) -> User:
    """Create the first admin with a valid, unused setup token."""
    row = session.exec(select(SetupToken).where(SetupToken.token_hash == digest(token))).first()
    now = utcnow()
    if row is None or row.used_at is not None or aware(row.expires_at) < now or has_users(session):
        raise NotFound("This setup link is invalid, used or expired.")
    row.used_at = now
    session.add(row)
    return create_user(session, data.model_copy(update={"role": Role.admin}), actor="setup")


# ---- machine clients ---------------------------------------------------------------------


def create_client(session: Session, data: ClientCreate, *, actor: str) -> tuple[ApiClient, str]:
    """A scoped bearer token; only its hash is kept, the token is shown once."""
    if session.exec(select(ApiClient.id).where(ApiClient.name == data.name)).first() is not None:
        raise Conflict(
            f"A client named {data.name!r} exists.",
            errors=[field_error(["name"], "already in use")],
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(
        name=data.name,
        token_prefix=token[:12],
        token_hash=digest(token),
        scopes=sorted({s.value for s in data.scopes}),
        created_by=actor,
        expires_at=utcnow() + timedelta(days=data.expires_in_days)
        if data.expires_in_days
        else None,
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="client",
        key=client.name,
        after={
            "scopes": client.scopes,
            "expires_at": client.expires_at.isoformat() if client.expires_at else None,
        },
    )
    session.commit()
    return client, token


# Built once: the lookup runs on every bearer-authenticated request.
_BY_TOKEN_HASH = select(ApiClient).where(col(ApiClient.token_hash) == bindparam("token_hash"))
LAST_USE_PRECISION = timedelta(minutes=1)


def resolve_token(session: Session, token: str) -> ApiClient | None:
    """The live client holding this token (not revoked, not expired), its last use noted.

    Revocation and expiry are read from the database on every request (nothing is cached), so a
    revoked token stops working at once. `last_used_at` is only advanced when it is older than
    LAST_USE_PRECISION, so most requests do not write; see _note_use.
    """
    token_hash = digest(token)
    row = session.exec(_BY_TOKEN_HASH, params={"token_hash": token_hash}).first()
    if (
        row is None
        or not hmac.compare_digest(row.token_hash, token_hash)
        or row.revoked_at is not None
    ):
        return None
    now = utcnow()
    if row.expires_at is not None and aware(row.expires_at) <= now:
        return None
    if row.last_used_at is None or now - aware(row.last_used_at) > LAST_USE_PRECISION:
        _note_use(session, row, now)
    return row


def _note_use(session: Session, client: ApiClient, now) -> None:
    """Advance the client's last use, in a short transaction of its own; advisory, never fatal.

    The request's read transaction ends first: on SQLite, upgrading a read transaction that
    another connection has overtaken fails at once ("database is locked") instead of waiting, and
    concurrent requests of one client would all hit that once a minute. The UPDATE is conditional,
    so of concurrent requests only the first writes. If the database stays busy beyond its busy
    timeout, the note is skipped (the next request tries again) rather than failing the request.
    """
    session.commit()
    try:
        session.execute(
            update(ApiClient)
            .where(
                col(ApiClient.id) == client.id,
                or_(
                    col(ApiClient.last_used_at).is_(None),
                    col(ApiClient.last_used_at) < now - LAST_USE_PRECISION,
                ),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    except OperationalError:
        session.rollback()
        return
    set_committed_value(client, "last_used_at", now)  # as stored; nothing left to flush


def revoke_client(session: Session, name: str, *, actor: str) -> ApiClient:
    client = session.exec(select(ApiClient).where(ApiClient.name == name)).first()
    if client is None:
        raise NotFound(f"No client {name!r}.")
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        session.add(client)
        audit.record(session, actor=actor, action="revoke", entity="client", key=name)
        session.commit()
    return client
