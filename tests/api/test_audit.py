"""The audit trail: every change recorded with its actor, filterable, append-only."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.factories import create_course


def test_changes_record_the_signed_in_actor(browser_as):
    planner = browser_as("planner")
    body = {"code": "ZZ-700", "title": "Audited course", "domain": "tactics", "level": "initial"}
    assert planner.post("/api/v1/courses", json=body).status_code == 201
    events = planner.get("/api/v1/audit", params={"entity": "course", "key": "ZZ-700"}).json()
    assert events["total"] == 1
    event = events["items"][0]
    assert event["actor"] == "user:planner" and event["action"] == "create"
    assert event["changes"]["after"]["title"] == "Audited course"


def test_filters_by_actor_action_and_time(client, browser_as):
    viewer = browser_as("viewer")
    create_course(client, code="ZZ-701")
    client.patch(
        "/api/v1/courses/ZZ-701", json={"title": "Audited again"}, headers={"If-Match": '"1"'}
    )
    mine = viewer.get(
        "/api/v1/audit", params={"actor": "client:test-suite", "key": "ZZ-701"}
    ).json()
    assert [e["action"] for e in mine["items"]] == ["update", "create"]
    updates = viewer.get("/api/v1/audit", params={"action": "update", "key": "ZZ-701"}).json()
    assert updates["items"][0]["changes"]["title"][1] == "Audited again"
    future = viewer.get("/api/v1/audit", params={"since": "2999-01-01T00:00:00Z"}).json()
    assert future["total"] == 0


def test_machine_clients_do_not_read_the_audit_trail(client):
    assert client.get("/api/v1/audit").status_code == 403


def test_audit_rows_cannot_be_changed_or_deleted(db, client):
    create_course(client, code="ZZ-702")
    for statement in ("UPDATE audit_event SET actor = 'someone else'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError):
            with db.begin_nested():
                db.execute(text(statement))
