"""Whole-database backup: dump, restore into an empty database, dump again, compare."""

import json
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.cli import migrate
from app.db import build_engine, get_session
from app.main import create_app
from app.models.accounts import Role, User, UserCreate
from app.models.audit import AuditEvent
from app.models.courses import Course
from app.services import accounts, backup, courses
from tests.conftest import PASSWORD
from tests.factories import course_body, sign_in


def without_stamp(data):
    return {k: v for k, v in data.items() if k != "generated_at"}


@pytest.fixture
def empty(fresh_url):
    """An empty, migrated database of the current backend."""
    migrate("head", database_url=fresh_url)
    engine = build_engine(fresh_url)
    yield engine
    engine.dispose()


def test_dump_restore_dump_is_identical(db, empty):
    first = backup.dump(db)
    assert first["format"] == "police-curriculum-planner-backup" and first["version"] == 1
    assert first["schema_revision"]
    tables = first["tables"]
    for name in ("instrument", "provision", "course", "course_link", "plan", "plan_item"):
        assert tables[name], name
    assert all(u["password_hash"].startswith("$argon2") for u in tables["user_account"])
    assert tables["api_client"] and tables["audit_event"]
    document = json.loads(json.dumps(first))  # through the file format

    with Session(empty) as session:
        counts = backup.restore(session, document)
        assert counts["course"] == len(tables["course"])
        again = backup.dump(session)
        assert without_stamp(again) == without_stamp(first)
        # The search index is rebuilt and new rows get fresh keys (sequences moved on).
        found, total = courses.list_courses(session, q="human rights")
        assert total > 0
        course = courses.create(
            session, courses.CourseCreate(**course_body(code="ZZ-900")), actor="tests"
        )
        assert course.id > max(c["id"] for c in tables["course"])
        user = accounts.create_user(
            session, UserCreate(username="newcomer", role=Role.viewer, password=PASSWORD), actor="t"
        )
        assert user.id > max(u["id"] for u in tables["user_account"])


def test_restore_refuses_a_database_holding_data(db):
    data = backup.dump(db)
    with pytest.raises(backup.Conflict) as err:
        backup.restore(db, data)
    assert "not empty" in err.value.detail


def test_restore_refuses_another_schema_revision_or_format(db, empty):
    data = backup.dump(db)
    with Session(empty) as session:
        with pytest.raises(backup.Conflict):
            backup.restore(session, {**data, "schema_revision": "0000"})
        with pytest.raises(backup.Invalid):
            backup.restore(session, {**data, "tables": {**data["tables"], "nonsense": []}})
        with pytest.raises(ValueError):
            backup.restore(session, {**data, "format": "something-else"})
        assert session.exec(select(func.count()).select_from(Course)).one() == 0


def test_admin_export_and_restore_endpoints(db, empty, client, browser_as):
    assert client.get("/api/v1/admin/export").status_code == 403  # scopes are not admin
    admin = browser_as("admin")
    response = admin.get("/api/v1/admin/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    data = response.json()
    assert without_stamp(data)["tables"] == backup.dump(db)["tables"]
    busy = admin.post("/api/v1/admin/restore", json=data)
    assert busy.status_code == 409
    assert busy.headers["content-type"].startswith("application/problem+json")

    # A new server: first-run setup made an admin, who restores the backup.
    with Session(empty) as session:
        accounts.create_user(
            session,
            UserCreate(username="restorer", role=Role.admin, password=PASSWORD),
            actor="setup",
        )
    app = create_app(first_run=False)

    def _session():
        with Session(empty, expire_on_commit=False) as session:
            yield session

    app.dependency_overrides[get_session] = _session
    with TestClient(app, raise_server_exceptions=False) as fresh:
        sign_in(fresh, "restorer", PASSWORD)
        restored = fresh.post("/api/v1/admin/restore", json=data)
        assert restored.status_code == 200, restored.text
        assert restored.json()["tables"]["course"] == len(data["tables"]["course"])
    with Session(empty) as session:
        names = set(session.exec(select(User.username)).all())
        assert names == {u["username"] for u in data["tables"]["user_account"]}
        trail = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert trail[0].actor == "setup" and trail[-1].action == "restore"
        assert len(trail) == len(data["tables"]["audit_event"]) + 2
        assert session.exec(select(func.count()).select_from(Course)).one() == len(
            data["tables"]["course"]
        )


def run(*args, url):
    env = {**os.environ, "PLANNER_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_cli_dump_and_restore(tmp_path, backend, scratch):
    source, target = scratch.new(backend), scratch.new(backend)
    assert run("migrate", url=source).returncode == 0
    assert run("load", url=source).returncode == 0
    dumped = run("dump", str(tmp_path / "backup.json"), url=source)
    assert dumped.returncode == 0, dumped.stderr
    assert run("migrate", url=target).returncode == 0
    restored = run("restore", str(tmp_path / "backup.json"), url=target)
    assert restored.returncode == 0, restored.stderr
    again = run("dump", "-", url=target)
    first = json.loads((tmp_path / "backup.json").read_text(encoding="utf-8"))
    assert without_stamp(json.loads(again.stdout)) == without_stamp(first)
    twice = run("restore", str(tmp_path / "backup.json"), url=target)
    assert twice.returncode == 1 and "not empty" in twice.stderr
