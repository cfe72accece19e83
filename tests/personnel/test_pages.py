"""Person and unit pages: what staff see of the people the HR system provisions."""

import re

import pytest

from . import create_group, officer


@pytest.fixture
def unit(client):
    anna = officer(
        client,
        "a.ivanova",
        name={"givenName": "Anna", "familyName": "Ivanova"},
        employeeNumber="E-2",
        rank="Lieutenant",
        position="Investigator",
        level="in_service",
        languages=[
            {
                "value": "en",
                "cefrLevel": "B2",
                "certificateDate": "2024-05-01",
                "certificateExpiresOn": "2025-05-01",
            }
        ],
    )
    other = officer(client, "b.other", name={"givenName": "Bek", "familyName": "Other"})
    group = create_group(client, "Investigations", [anna["id"], other["id"]])
    return {"anna": anna, "other": other, "unit": group}


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_people_list_searches(browser_as, unit):
    viewer = browser_as("viewer")
    page = viewer.get("/people")
    assert page.status_code == 200
    assert "Anna Ivanova" in page.text and "Bek Other" in page.text
    assert "<caption" in page.text and 'scope="col"' in page.text

    found = viewer.get("/people", params={"q": "investigator"})
    assert "Anna Ivanova" in found.text and "Bek Other" not in found.text

    fragment = viewer.get("/people", params={"q": "bek"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "Bek Other" in fragment.text
    assert "HX-Request" in fragment.headers["vary"]

    none = viewer.get("/people", params={"q": "nobody-at-all"})
    assert "No person matches." in none.text


def test_person_page_shows_rank_unit_and_languages(browser_as, unit):
    viewer = browser_as("viewer")
    page = viewer.get(f"/people/{unit['anna']['id']}")
    assert page.status_code == 200
    shown = text(page.text)
    for fact in ("Lieutenant", "Investigator", "Investigations", "In-service training", "E-2"):
        assert fact in shown
    assert "B2" in shown and "2024-05-01" in shown and "2025-05-01" in shown
    assert "Expired" in shown
    assert f'/units/{unit["unit"]["id"]}"' in page.text
    assert viewer.get("/people/E-2").text == page.text


def test_unit_page_lists_members(browser_as, unit):
    viewer = browser_as("viewer")
    page = viewer.get(f"/units/{unit['unit']['id']}")
    assert page.status_code == 200
    assert "Investigations" in page.text
    assert "Anna Ivanova" in page.text and "Bek Other" in page.text
    assert "2 members" in text(page.text)


def test_unknown_person_and_unit_pages(browser_as):
    viewer = browser_as("viewer")
    html = {"Accept": "text/html"}
    assert viewer.get("/people/E-404", headers=html).status_code == 404
    assert viewer.get("/units/nope", headers=html).status_code == 404


def test_anonymous_visitors_sign_in_first(anon):
    response = anon.get("/people", headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
