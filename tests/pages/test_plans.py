"""Plan pages: list, builder (with and without htmx), workflow, versions, diff, stale edits."""

import re

from tests.factories import PlanClient, csrf_from
from tests.pages.htmlcheck import check_html

HX = {"HX-Request": "true"}


def revision(html: str) -> str:
    return re.search(r'name="revision" value="(\d+)"', html).group(1)


def new_plan(client, **overrides):
    return PlanClient(client, **{"terms": 2, "term_hour_budget": 120, **overrides})


def test_plan_list_filters_and_validates_the_new_plan_form(browser_as):
    planner = browser_as("planner")
    page = planner.get("/plans")
    assert page.status_code == 200 and "Initial Training Programme for Patrol Officers" in page.text
    check_html(page.text)
    drafts = planner.get("/plans", params={"status": "draft"}).text
    assert "command-transnational" in drafts and "patrol-initial" not in drafts
    bad = planner.post(
        "/plans",
        data={
            "csrftoken": csrf_from(page.text),
            "name": "Ab",
            "audience": "initial",
            "academic_year": "2027/2029",
            "terms": "2",
            "term_hour_budget": "100",
        },
    )
    assert bad.status_code == 422
    assert 'id="e-academic_year"' in bad.text and 'value="Ab"' in bad.text
    good = planner.post(
        "/plans",
        data={
            "csrftoken": csrf_from(page.text),
            "name": "Evening programme",
            "audience": "in_service",
            "academic_year": "2027/2028",
            "terms": "2",
            "term_hour_budget": "100",
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    assert "Evening programme" in planner.get(good.headers["location"]).text


def test_builder_page_shows_terms_totals_and_findings(client, browser_as):
    plan = new_plan(client, required_instruments=["ccleo-1979"])
    plan.add("HR-101", 1)
    page = browser_as("viewer").get(f"/plans/{plan.id}")
    assert page.status_code == 200
    check_html(page.text)
    assert 'id="term-1"' in page.text and 'id="term-2"' in page.text
    assert "required_not_assessed" in page.text
    assert "Add a course" not in page.text  # a viewer cannot edit


def test_adding_with_htmx_returns_the_updated_workspace(client, browser_as):
    plan = new_plan(client)
    planner = browser_as("planner")
    page = planner.get(f"/plans/{plan.id}").text
    found = planner.get(
        f"/plans/{plan.id}/course-search", params={"course_code": "firearms", "term": 2}, headers=HX
    )
    assert found.status_code == 200 and "<html" not in found.text and "TA-201" in found.text
    check_html(found.text)
    response = planner.post(
        f"/plans/{plan.id}/items",
        headers=HX,
        data={
            "csrftoken": csrf_from(page),
            "course_code": "HR-101",
            "term": "1",
            "revision": revision(page),
        },
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="workspace"') and "<html" not in response.text
    check_html(response.text)
    load = re.search(r'id="term-1-load"><strong>(\d+)</strong>', response.text).group(1)
    hr101 = client.get("/api/v1/courses/HR-101").json()["hours"]["contact"]
    assert int(load) == hr101
    assert "term_empty" in response.text  # term 2 is still empty


def test_without_javascript_forms_redirect_back(client, browser_as):
    plan = new_plan(client)
    planner = browser_as("planner")
    page = planner.get(f"/plans/{plan.id}").text
    response = planner.post(
        f"/plans/{plan.id}/items",
        data={
            "csrftoken": csrf_from(page),
            "course_code": "hr-101",
            "term": "2",
            "revision": revision(page),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"].endswith(
        f"/plans/{plan.id}"
    )
    assert client.get(plan.url).json()["term_plan"][1]["items"][0]["course_code"] == "HR-101"


def test_move_and_remove(client, browser_as):
    plan = new_plan(client)
    item = plan.add("HR-101", 1).json()["id"]
    planner = browser_as("planner")
    page = planner.get(f"/plans/{plan.id}").text
    moved = planner.post(
        f"/plans/{plan.id}/items/{item}/move",
        headers=HX,
        data={"csrftoken": csrf_from(page), "term": "2", "revision": revision(moved_from := page)},
    )
    assert moved.status_code == 200 and moved_from
    assert client.get(plan.url).json()["term_plan"][1]["items"][0]["id"] == item
    removed = planner.post(
        f"/plans/{plan.id}/items/{item}/delete",
        headers=HX,
        data={"csrftoken": csrf_from(page), "revision": revision(moved.text)},
    )
    assert removed.status_code == 200
    assert all(not t["items"] for t in client.get(plan.url).json()["term_plan"])


def test_a_stale_edit_shows_the_fresh_plan_and_a_clear_message(client, browser_as):
    plan = new_plan(client)
    planner = browser_as("planner")
    page = planner.get(f"/plans/{plan.id}").text
    plan.add("TC-101", 2)  # someone else edits in between
    response = planner.post(
        f"/plans/{plan.id}/items",
        headers=HX,
        data={
            "csrftoken": csrf_from(page),
            "course_code": "HR-101",
            "term": "1",
            "revision": revision(page),
        },
    )
    assert response.status_code == 412
    assert "Someone else changed this plan" in response.text
    assert "TC-101" in response.text  # the fresh plan
    assert revision(response.text) != revision(page)
    assert [
        i["course_code"] for t in client.get(plan.url).json()["term_plan"] for i in t["items"]
    ] == ["TC-101"]


def test_unknown_course_code_is_reported_in_place(client, browser_as):
    plan = new_plan(client)
    planner = browser_as("planner")
    page = planner.get(f"/plans/{plan.id}").text
    response = planner.post(
        f"/plans/{plan.id}/items",
        headers=HX,
        data={
            "csrftoken": csrf_from(page),
            "course_code": "QQ-999",
            "term": "1",
            "revision": revision(page),
        },
    )
    assert response.status_code == 422 and "QQ-999" in response.text


def test_submit_and_approve_through_the_pages(client, browser_as):
    plan = new_plan(client, terms=1, term_hour_budget=400)
    plan.add("HR-101", 1)
    planner, reviewer, viewer = browser_as("planner"), browser_as("reviewer"), browser_as("viewer")
    page = planner.get(f"/plans/{plan.id}").text
    assert "Approve" not in page and "Submit for review" in page
    submitted = planner.post(
        f"/plans/{plan.id}/transitions",
        headers=HX,
        data={
            "csrftoken": csrf_from(page),
            "action": "submit",
            "comment": "",
            "revision": revision(page),
        },
    )
    assert submitted.status_code == 200 and "in review" in submitted.text
    review = reviewer.get(f"/plans/{plan.id}").text
    assert "Approve" in review and "Return to draft" in review
    denied = viewer.post(
        f"/plans/{plan.id}/transitions",
        data={
            "csrftoken": viewer.headers["X-CSRF-Token"],
            "action": "approve",
            "revision": revision(review),
        },
    )
    assert denied.status_code == 403
    approved = reviewer.post(
        f"/plans/{plan.id}/transitions",
        headers=HX,
        data={
            "csrftoken": csrf_from(review),
            "action": "approve",
            "comment": "Fine",
            "revision": revision(review),
        },
    )
    assert (
        approved.status_code == 200 and "Create the next version" not in approved.text
    )  # reviewer cannot version
    assert client.get(plan.url).json()["status"] == "approved"
    assert "“Fine”" in approved.text


def test_new_version_and_diff_pages(client, browser_as):
    plan = new_plan(client, terms=2, term_hour_budget=400)
    plan.add("HR-101", 1)
    plan.act("submit")
    plan.act("approve")
    planner = browser_as("planner")
    page = planner.get(f"/plans/{plan.id}").text
    assert "Create the next version" in page
    made = planner.post(
        f"/plans/{plan.id}/versions",
        data={"csrftoken": csrf_from(page), "academic_year": ""},
        follow_redirects=False,
    )
    assert made.status_code == 303
    new_id = int(made.headers["location"].rstrip("/").split("/")[-1])
    v2 = client.get(f"/api/v1/plans/{new_id}")
    assert v2.json()["academic_year"] == "2028/2029"
    r = client.post(
        f"/api/v1/plans/{new_id}/items",
        headers={"If-Match": v2.headers["etag"]},
        json={"course_code": "TC-101", "term": 2},
    )
    assert r.status_code == 201
    diff = planner.get(f"/plans/{new_id}/diff")
    assert diff.status_code == 200
    check_html(diff.text)
    assert "+ " in diff.text and "TC-101" in diff.text


def test_search_results_carry_the_revision_of_the_page_they_came_from(client, browser_as):
    plan = new_plan(client)
    planner = browser_as("planner")
    page = planner.get(f"/plans/{plan.id}").text
    plan.add("TC-101", 2)  # the page is now stale
    found = planner.get(
        f"/plans/{plan.id}/course-search",
        headers=HX,
        params={"course_code": "human rights", "term": 1, "revision": revision(page)},
    )
    assert revision(found.text) == revision(page)
    stale = planner.post(
        f"/plans/{plan.id}/items",
        headers=HX,
        data={
            "csrftoken": csrf_from(page),
            "course_code": "HR-101",
            "term": "1",
            "revision": revision(found.text),
        },
    )
    assert stale.status_code == 412
