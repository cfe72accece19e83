"""Enrolments and training records pushed by HR."""

import pytest

from tests.factories import create_course
from tests.personnel import create_group, officer


@pytest.fixture
def unit(client):
    anna = officer(client, "a.ivanova", employeeNumber="E-1")
    bek = officer(client, "b.karimov", employeeNumber="E-2")
    gone = officer(client, "s.gone", employeeNumber="E-3", active=False)
    group = create_group(client, "Investigations", [anna["id"], bek["id"], gone["id"]])
    course = create_course(client)
    return {"anna": anna, "bek": bek, "gone": gone, "group": group, "course": course["code"]}


def row(person: str, course: str, day: str = "2026-03-01", **extra):
    return {"person": person, "course": course, "completed_on": day, "result": "passed", **extra}


def test_group_enrolment_is_idempotent_and_skips_inactive(client, unit):
    body = {"unit": unit["group"]["id"], "course": unit["course"]}
    first = client.post("/api/v1/enrollments", json=body)
    assert first.status_code == 201, first.text
    assert sorted(e["person"] for e in first.json()["created"]) == sorted(
        [unit["anna"]["id"], unit["bek"]["id"]]
    )
    assert {e["source"] for e in first.json()["created"]} == {"group"}
    again = client.post("/api/v1/enrollments", json=body).json()
    assert again == {"created": [], "existing": 2}
    one = client.post("/api/v1/enrollments", json={"person": "E-1", "course": unit["course"]})
    assert one.json() == {"created": [], "existing": 1}


def test_enrolment_needs_one_target(client, unit):
    r = client.post("/api/v1/enrollments", json={"person": "E-1"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


def test_single_record_by_employee_number(client, unit):
    r = client.post("/api/v1/records", json=row("E-1", unit["course"], hours=16, grade="A"))
    assert r.status_code == 201, r.text
    assert r.json()["source_keys"] == [f"{unit['course']}@2026-03-01"]
    page = client.get("/api/v1/records", params={"person": unit["anna"]["id"]}).json()
    assert page["total"] == 1
    assert page["items"][0]["hours"] == 16 and page["items"][0]["grade"] == "A"
    dup = client.post("/api/v1/records", json=row("E-1", unit["course"]))
    assert dup.status_code == 422
    assert dup.json()["errors"][0]["field"] == "source_key"


def test_batch_reports_every_bad_row_and_writes_nothing(client, unit):
    rows = [
        row("E-1", unit["course"]),
        row("nobody", unit["course"]),
        row("E-2", "XX-999"),
        row("E-2", unit["course"], result="excellent"),
        row("E-1", unit["course"]),  # repeats row 0
    ]
    r = client.post("/api/v1/records", json={"records": rows}, headers={"Idempotency-Key": "b1"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    found = {(e["index"], e["field"]) for e in r.json()["errors"]}
    assert found == {
        (1, "records.1.person"),
        (2, "records.2.course"),
        (3, "records.3.result"),
        (4, "records.4.source_key"),
    }
    assert client.get("/api/v1/records", params={"course": unit["course"]}).json()["total"] == 0


def test_batch_needs_an_idempotency_key(client, unit):
    r = client.post("/api/v1/records", json={"records": [row("E-1", unit["course"])]})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"


def test_retry_with_same_key_replays_first_answer(client, unit, count_queries):
    body = {"records": [row("E-1", unit["course"]), row(unit["bek"]["id"], unit["course"])]}
    headers = {"Idempotency-Key": "hr-2026-03"}
    first = client.post("/api/v1/records", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/records", json=body, headers=headers)
    assert (again.status_code, again.json()) == (201, first.json())
    assert client.get("/api/v1/records", params={"course": unit["course"]}).json()["total"] == 2
    other = {"records": [row("E-2", unit["course"], day="2026-04-01")]}
    reused = client.post("/api/v1/records", json=other, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["field"] == "Idempotency-Key"


def test_batch_query_count_does_not_grow_with_rows(client, unit, count_queries):
    def batch(n: int, key: str, start: int):
        rows = [
            row("E-1" if i % 2 else "E-2", unit["course"], source_key=f"hr-{start + i}")
            for i in range(n)
        ]
        with count_queries() as counter:
            r = client.post(
                "/api/v1/records", json={"records": rows}, headers={"Idempotency-Key": key}
            )
        assert r.status_code == 201, r.text
        return counter.count

    assert batch(2, "small", 0) == batch(300, "large", 100)


def test_filters_by_unit_and_dates_and_deactivation_keeps_records(client, unit):
    rows = [
        row("E-1", unit["course"], day="2025-06-01"),
        row("E-2", unit["course"], day="2026-02-01"),
    ]
    assert (
        client.post(
            "/api/v1/records", json={"records": rows}, headers={"Idempotency-Key": "k"}
        ).status_code
        == 201
    )
    q = {"unit": unit["group"]["id"], "from": "2026-01-01", "to": "2026-12-31"}
    page = client.get("/api/v1/records", params=q).json()
    assert [i["employee_number"] for i in page["items"]] == ["E-2"]
    deactivate = client.patch(
        f"/scim/v2/Users/{unit['anna']['id']}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        },
    )
    assert deactivate.status_code == 200, deactivate.text
    assert client.get("/api/v1/records", params={"person": "E-1"}).json()["total"] == 1


def test_records_need_scopes(anon, browser_as, unit):
    assert anon.get("/api/v1/records").status_code == 401
    viewer = browser_as("viewer")
    assert viewer.get("/api/v1/records").status_code == 200
    r = viewer.post("/api/v1/enrollments", json={"person": "E-1", "course": unit["course"]})
    assert r.status_code == 403
