"""In-service requirements, compliance of a unit, and the transcript HR pulls."""

import csv
import io
from datetime import date, timedelta

import pytest

from app.models.common import utcnow
from tests.factories import create_course
from tests.personnel import create_group, officer

TODAY = utcnow().date()
THIS_YEAR = date(TODAY.year, 1, 2).isoformat()
LAST_YEAR = date(TODAY.year - 1, 6, 1).isoformat()


def push(client, key: str, *rows: dict) -> None:
    r = client.post(
        "/api/v1/records", json={"records": list(rows)}, headers={"Idempotency-Key": key}
    )
    assert r.status_code == 201, r.text


def rec(person: str, course: str, day: str, hours: float = 0, result: str = "passed") -> dict:
    return {
        "person": person,
        "course": course,
        "completed_on": day,
        "result": result,
        "hours": hours,
    }


@pytest.fixture
def station(client):
    inv = {"position": "Investigator", "level": "in_service"}
    soon = (TODAY + timedelta(days=30)).isoformat()
    people = {
        "done": officer(client, "a.done", employeeNumber="E-1", **inv),
        "due": officer(client, "b.due", employeeNumber="E-2", **inv),
        "late": officer(
            client,
            "c.late",
            employeeNumber="E-3",
            languages=[{"value": "en", "cefrLevel": "B2", "certificateExpiresOn": soon}],
            **inv,
        ),
        "clerk": officer(client, "d.clerk", employeeNumber="E-4", position="Clerk"),
    }
    unit = create_group(client, "Station 4", [p["id"] for p in people.values()])
    course = create_course(client)["code"]
    push(
        client,
        "station",
        rec("E-1", course, THIS_YEAR, 40),
        rec("E-2", course, THIS_YEAR, 10),
        rec("E-2", course, LAST_YEAR, 50),
        rec("E-3", course, THIS_YEAR, 60, result="failed"),  # failed: no hours credited
    )
    rules = [
        {
            "name": "40 hours a year",
            "kind": "hours_per_year",
            "hours": 40,
            "position": "Investigator",
        },
        {
            "name": "English certificate",
            "kind": "certificate",
            "language": "en",
            "level": "in_service",
        },
    ]
    for rule in rules:
        assert client.post("/api/v1/requirements", json=rule).status_code == 201
    return {"people": people, "unit": unit, "course": course}


def standing(report: dict) -> dict[str, tuple[str, list[str]]]:
    return {
        i["employee_number"]: (i["status"], [r["status"] for r in i["requirements"]])
        for i in report["items"]
    }


def test_unit_compliance(client, station):
    report = client.get(f"/api/v1/units/{station['unit']['id']}/compliance").json()
    assert standing(report) == {
        "E-1": ("overdue", ["done", "overdue"]),  # hours done, no certificate
        "E-2": ("overdue", ["due", "overdue"]),  # short this year, met last year
        "E-3": ("overdue", ["overdue", "due"]),  # no credited hours; certificate lapses soon
        "E-4": ("done", []),  # no rule applies to a clerk
    }
    overdue = client.get(
        "/api/v1/compliance", params={"unit": station["unit"]["id"], "status": "overdue"}
    ).json()
    assert overdue["total"] == 3


def test_refresher_by_domain(client, station):
    rule = {
        "name": "Human rights refresher",
        "kind": "refresher",
        "domain": "human_rights",
        "every_years": 1,
        "position": "Clerk",
    }
    assert client.post("/api/v1/requirements", json=rule).status_code == 201
    report = client.get(f"/api/v1/units/{station['unit']['id']}/compliance").json()
    assert standing(report)["E-4"] == ("overdue", ["overdue"])  # never completed
    push(client, "clerk", rec("E-4", station["course"], TODAY.isoformat()))
    report = client.get(f"/api/v1/units/{station['unit']['id']}/compliance").json()
    [state] = [i for i in report["items"] if i["employee_number"] == "E-4"][0]["requirements"]
    assert state["status"] == "done"
    assert state["due_on"] == TODAY.replace(year=TODAY.year + 1).isoformat()


def test_compliance_as_csv(client, station):
    r = client.get("/api/v1/compliance", params={"unit": station["unit"]["id"], "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {(row["employee_number"], row["requirement"], row["status"]) for row in rows} >= {
        ("E-1", "40 hours a year", "done"),
        ("E-3", "English certificate", "due"),
    }


def test_compliance_queries_do_not_grow_with_the_unit(client, station, count_queries):
    small = create_group(client, "Small", [station["people"]["done"]["id"]])
    with count_queries() as one:
        assert client.get(f"/api/v1/units/{small['id']}/compliance").json()["total"] == 1
    with count_queries() as four:
        assert client.get(f"/api/v1/units/{station['unit']['id']}/compliance").json()["total"] == 4
    assert one.count == four.count


def test_transcript(client, station):
    client.post("/api/v1/enrollments", json={"person": "E-2", "course": station["course"]})
    t = client.get("/api/v1/people/E-2/transcript").json()
    assert t["schema_version"] == 1
    assert t["person"]["employee_number"] == "E-2"
    assert [r["completed_on"] for r in t["records"]] == [LAST_YEAR, THIS_YEAR]
    assert t["in_service_hours_by_year"] == {str(TODAY.year - 1): 50, str(TODAY.year): 10}
    assert [e["course"] for e in t["enrollments"]] == [station["course"]]
    assert [r["status"] for r in t["requirements"]] == ["due", "overdue"]
    assert client.get("/api/v1/people/E-404/transcript").status_code == 404


def test_invalid_rules_and_permissions(client, browser_as, station):
    bad = client.post("/api/v1/requirements", json={"name": "No hours", "kind": "hours_per_year"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    rule = {"name": "Some hours", "kind": "hours_per_year", "hours": 5}
    assert browser_as("planner").post("/api/v1/requirements", json=rule).status_code == 403
    assert browser_as("admin").post("/api/v1/requirements", json=rule).status_code == 201
    assert browser_as("viewer").get("/api/v1/compliance").status_code == 200
