"""The personnel JSON API: people and units as the planner shows them to staff and clients."""

import pytest

from . import create_group, officer


@pytest.fixture
def academy(client):
    """A unit with two officers, one of them also in a cohort, and a manager."""
    boss = officer(
        client,
        "r.tursunov",
        name={"givenName": "Rustam", "familyName": "Tursunov"},
        employeeNumber="E-1",
        rank="Colonel",
        position="Head of unit",
    )
    anna = officer(
        client,
        "a.ivanova",
        name={"givenName": "Анна", "familyName": "Ivanova"},
        emails=[{"value": "a.ivanova@police.example", "type": "work"}],
        employeeNumber="E-2",
        manager={"value": boss["id"]},
        rank="Lieutenant",
        position="Investigator",
        level="in_service",
        languages=[
            {
                "value": "en",
                "cefrLevel": "B2",
                "certificateDate": "2024-05-01",
                "certificateExpiresOn": "2025-05-01",
            },
            {"value": "uz", "cefrLevel": "C2"},
        ],
    )
    gone = officer(client, "s.gone", employeeNumber="E-3", active=False)
    unit = create_group(client, "Investigations", [boss["id"], anna["id"], gone["id"]])
    cohort = create_group(client, "English B2 2026", [anna["id"]], kind="cohort", parent=unit["id"])
    return {"boss": boss, "anna": anna, "gone": gone, "unit": unit, "cohort": cohort}


def test_list_people_with_filters(client, academy):
    everyone = client.get("/api/v1/people").json()
    assert everyone["total"] == 3
    assert [p["user_name"] for p in everyone["items"]] == ["a.ivanova", "r.tursunov", "s.gone"]

    def users(**params):
        return [p["user_name"] for p in client.get("/api/v1/people", params=params).json()["items"]]

    assert users(q="аННА") == ["a.ivanova"]  # any script, any case
    assert users(q="e-1") == ["r.tursunov"]
    assert users(q="lieutenant investigator") == ["a.ivanova"]
    assert users(unit=academy["cohort"]["id"]) == ["a.ivanova"]
    assert users(active="false") == ["s.gone"]
    assert users(active="true", unit=academy["unit"]["id"]) == ["a.ivanova", "r.tursunov"]
    page = client.get("/api/v1/people", params={"limit": 1, "offset": 1}).json()
    assert page["total"] == 3 and len(page["items"]) == 1


def test_person_detail_by_id_and_by_employee_number(client, academy):
    anna = academy["anna"]
    by_id = client.get(f"/api/v1/people/{anna['id']}")
    assert by_id.status_code == 200
    person = by_id.json()
    assert client.get("/api/v1/people/E-2").json() == person
    assert person["rank"] == "Lieutenant" and person["position"] == "Investigator"
    assert person["level"] == "in_service"
    assert person["unit"] == {
        "id": academy["unit"]["id"],
        "display_name": "Investigations",
        "kind": "unit",
    }
    assert {g["display_name"] for g in person["groups"]} == {"Investigations", "English B2 2026"}
    assert person["manager"]["id"] == academy["boss"]["id"]
    assert person["languages"] == [
        {
            "language": "en",
            "cefr_level": "B2",
            "certificate_date": "2024-05-01",
            "certificate_expires_on": "2025-05-01",
            "expired": True,
        },
        {
            "language": "uz",
            "cefr_level": "C2",
            "certificate_date": None,
            "certificate_expires_on": None,
            "expired": False,
        },
    ]
    assert person["deleted"] is False
    # Plans, courses and completions are not tracked yet: no placeholder pretends otherwise.
    assert not {"plans", "courses", "completions", "in_service_hours"} & set(person)


def test_unknown_person_is_a_problem_404(client):
    response = client.get("/api/v1/people/E-404")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_units_list_and_detail(client, academy):
    units = client.get("/api/v1/units").json()
    assert [(u["display_name"], u["member_count"]) for u in units["items"]] == [
        ("English B2 2026", 1),
        ("Investigations", 3),
    ]
    cohorts = client.get("/api/v1/units", params={"kind": "cohort"}).json()["items"]
    assert [c["parent"]["display_name"] for c in cohorts] == ["Investigations"]

    unit = client.get(f"/api/v1/units/{academy['unit']['id']}").json()
    assert [m["user_name"] for m in unit["members"]] == ["a.ivanova", "r.tursunov", "s.gone"]
    assert [c["display_name"] for c in unit["children"]] == ["English B2 2026"]
    assert unit["parent"] is None
    assert client.get("/api/v1/units/nope").status_code == 404


def test_staff_read_people_and_anonymous_cannot(client, academy, browser_as, anon):
    viewer = browser_as("viewer")
    assert viewer.get("/api/v1/people").json()["total"] == 3
    assert viewer.get(f"/api/v1/units/{academy['unit']['id']}").status_code == 200
    assert anon.get("/api/v1/people").status_code == 401
    assert anon.get("/api/v1/units").status_code == 401


def test_people_list_query_count_does_not_grow(client, academy, count_queries):
    with count_queries() as small:
        assert len(client.get("/api/v1/people", params={"limit": 1}).json()["items"]) == 1
    with count_queries() as large:
        assert len(client.get("/api/v1/people", params={"limit": 100}).json()["items"]) == 3
    assert large.count == small.count
