"""Signing in and out, throttling, password changes, first-run setup."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.cli import migrate
from app.db import build_engine
from app.models.accounts import User
from app.services import accounts
from tests.conftest import PASSWORD
from tests.factories import csrf_from, sign_in


def attempt(client, username, password):
    token = csrf_from(client.get("/login").text)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrftoken": token},
        follow_redirects=False,
    )


def test_sign_in_and_out(anon):
    response = attempt(anon, "planner", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "planner (planner)" in anon.get("/").text
    token = csrf_from(anon.get("/").text)
    assert (
        anon.post("/logout", data={"csrftoken": token}, follow_redirects=False).status_code == 303
    )
    assert "Sign in" in anon.get("/").text
    assert anon.get("/api/v1/plans").status_code == 401


def test_next_only_goes_to_this_site(anon):
    token = csrf_from(anon.get("/login").text)
    response = anon.post(
        "/login",
        data={
            "username": "viewer",
            "password": PASSWORD,
            "csrftoken": token,
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_unknown_user_and_wrong_password_look_the_same(anon):
    unknown = attempt(anon, "nobody-at-all", "whatever-password")
    wrong = attempt(anon, "reviewer", "whatever-password")
    assert unknown.status_code == wrong.status_code == 400
    assert "Unknown user or wrong password" in unknown.text
    strip = lambda r: r.text.replace("nobody-at-all", "").replace("reviewer", "")  # noqa: E731
    assert strip(unknown).count("Unknown user or wrong password") == strip(wrong).count(
        "Unknown user or wrong password"
    )


def test_failures_per_account_are_throttled(anon):
    for _ in range(5):
        assert attempt(anon, "viewer", "wrong-password-1").status_code == 400
    blocked = attempt(anon, "viewer", PASSWORD)  # even the right password waits
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0


def test_failures_per_address_are_throttled(anon):
    for n in range(20):
        attempt(anon, f"someone-{n}", "wrong-password-1")
    assert attempt(anon, "planner", PASSWORD).status_code == 429


def test_password_change_signs_out_other_sessions(app, browser_as):
    first = browser_as("reviewer")
    second = browser_as("reviewer")
    page = first.get("/account/password")
    response = first.post(
        "/account/password",
        data={
            "csrftoken": csrf_from(page.text),
            "current_password": PASSWORD,
            "new_password": "a much longer new password",
            "confirm_password": "a much longer new password",
        },
    )
    assert response.status_code == 200 and "has been changed" in response.text
    assert first.get("/api/v1/plans").status_code == 200
    assert second.get("/api/v1/plans").status_code == 401


def test_password_form_shows_errors_next_to_fields(browser_as):
    c = browser_as("viewer")
    page = c.get("/account/password")
    response = c.post(
        "/account/password",
        data={
            "csrftoken": csrf_from(page.text),
            "current_password": "wrong",
            "new_password": "another password!",
            "confirm_password": "another password!",
        },
    )
    assert response.status_code == 422
    assert 'id="e-current_password"' in response.text and 'aria-invalid="true"' in response.text


def test_disabled_users_lose_their_session(browser_as, db):
    c = browser_as("viewer")
    assert c.get("/api/v1/plans").status_code == 200
    accounts.set_active(db, accounts.get_user(db, "viewer"), False, actor="tests")
    assert c.get("/api/v1/plans").status_code == 401
    assert attempt(TestClient(c.app), "viewer", PASSWORD).status_code == 400


@pytest.fixture
def empty_app(fresh_url, monkeypatch):
    from app.config import get_settings
    from app.db import get_engine, get_write_engine
    from app.main import create_app

    monkeypatch.setenv("PLANNER_DATABASE_URL", fresh_url)
    for cached in (get_settings, get_engine, get_write_engine):
        cached.cache_clear()
    migrate("head", database_url=fresh_url)
    yield create_app(first_run=False)
    get_engine().dispose()
    for cached in (get_settings, get_engine, get_write_engine):
        cached.cache_clear()


def test_first_run_setup_link_creates_the_admin_once(empty_app, fresh_url):
    engine = build_engine(fresh_url)
    with Session(engine) as session:
        token = accounts.ensure_first_admin(session)
    assert token
    with TestClient(empty_app) as c:
        page = c.get("/setup", params={"token": token})
        form = {
            "csrftoken": csrf_from(page.text),
            "token": token,
            "username": "Chief",
            "display_name": "Chief",
            "password": "long enough password",
            "confirm_password": "long enough password",
        }
        bad = c.post("/setup", data={**form, "token": "forged"}, follow_redirects=False)
        assert bad.status_code == 403
        short = c.post("/setup", data={**form, "password": "short", "confirm_password": "short"})
        assert short.status_code == 422 and 'id="e-password"' in short.text
        done = c.post("/setup", data=form, follow_redirects=False)
        assert done.status_code == 303
        assert "chief (admin)" in c.get("/").text
        assert c.get("/setup", params={"token": token}).status_code == 404
    with Session(engine) as session:
        assert [u.username for u in session.exec(select(User))] == ["chief"]
        assert accounts.ensure_first_admin(session) is None
    engine.dispose()


def test_admin_password_setting_creates_the_admin(empty_app, fresh_url, monkeypatch):
    from app.config import get_settings

    monkeypatch.setenv("PLANNER_ADMIN_PASSWORD", "from the environment 123")
    get_settings.cache_clear()
    engine = build_engine(fresh_url)
    with Session(engine) as session:
        assert accounts.ensure_first_admin(session) is None
        assert session.exec(select(User.username, User.role)).all() == [("admin", "admin")]
    engine.dispose()
    with TestClient(empty_app) as c:
        sign_in(c, "admin", "from the environment 123")
        assert c.get("/admin/users").status_code == 200
