"""Course catalogue pages: list with live search, course page, create and edit forms."""

import re

import pytest

from tests.factories import create_course, csrf_from
from tests.pages.htmlcheck import check_html

# draft, archived or restricted
NOT_PUBLIC = ("CY-302", "HR-206", "TC-207", "FL-100", "TA-301", "TC-301")


def codes_in(html: str) -> list[str]:
    """Course codes of the results table, in order."""
    return re.findall(r'<th scope="row" class="nowrap"><a href="[^"]*/courses/([A-Z0-9-]+)">', html)


def full_page(html: str) -> None:
    check_html(html)
    assert html.count("<h1") == 1


def form_of(html: str) -> dict[str, str]:
    """The values a browser would submit from the course form."""
    fields = dict(
        re.findall(
            r'<input id="f-([a-z_]+)" name="\1" type="(?:text|number)" value="([^"]*)"', html
        )
    )
    for name, body in re.findall(r'<textarea id="f-([a-z_]+)"[^>]*>(.*?)</textarea>', html, re.S):
        fields[name] = body.replace("&#39;", "'").replace("&amp;", "&")
    for name, options in re.findall(r'<select id="f-([a-z_]+)".*?>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        fields[name] = chosen.group(1) if chosen else ""
    fields["version"] = re.search(r'name="version" value="(\d+)"', html).group(1)
    fields["csrftoken"] = csrf_from(html)
    return fields


def test_list_is_a_full_page_and_htmx_gets_the_results_only(client):
    page = client.get("/courses")
    assert page.status_code == 200
    assert "HX-Request" in page.headers["vary"]
    full_page(page.text)
    assert '<html lang="en">' in page.text and 'id="results"' in page.text
    assert "/static/css/catalogue.css" in page.text
    assert 'data-hx-trigger="input changed delay:300ms, search"' in page.text
    assert len(codes_in(page.text)) == 50  # one page of 50

    fragment = client.get("/courses", params={"q": "human"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    check_html(fragment.text)
    assert "<html" not in fragment.text and "<form" not in fragment.text
    assert "HR-101" in codes_in(fragment.text)
    assert 'id="result-count" data-hx-swap-oob="innerHTML"' in fragment.text

    # htmx restoring history after Back asks for the whole page
    restore = client.get(
        "/courses", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.text


def test_filters_and_search_narrow_the_list(client):
    languages = codes_in(client.get("/courses", params={"domain": "foreign_languages"}).text)
    assert languages and all(c.startswith("FL-") for c in languages)

    drafts = codes_in(client.get("/courses", params={"status": "draft"}).text)
    assert set(drafts) == {"CY-302", "HR-206", "TC-207"}

    on_code = codes_in(client.get("/courses", params={"instrument": "ccleo-1979"}).text)
    api = client.get("/api/v1/courses", params={"instrument": "ccleo-1979"}).json()["items"]
    assert on_code == [c["code"] for c in api] and "HR-102" in on_code

    searched = codes_in(client.get("/courses", params={"q": "Budapest"}).text)
    assert "CY-201" in searched and "HR-101" not in searched

    page = client.get("/courses", params={"domain": "foreign_languages", "level": "initial"}).text
    assert '<option value="foreign_languages" selected>' in page
    assert '<option value="initial" selected>' in page

    nothing = client.get("/courses", params={"q": "zzzqqq"}).text
    assert codes_in(nothing) == [] and "No course matches" in nothing


def test_pagination_links_carry_the_filters(client):
    first = client.get("/courses").text
    total = client.get("/api/v1/courses", params={"limit": 1}).json()["total"]
    assert f"{total} courses match." in first
    next_url = re.search(r'<a rel="next" href="([^"]+)"', first).group(1)
    assert "offset=50" in next_url
    second = client.get(next_url.replace("&amp;", "&")).text
    assert len(codes_in(second)) == total - 50
    assert 'rel="prev"' in second and 'rel="next"' not in second
    beyond = client.get("/courses", params={"level": "initial", "offset": 50}).text
    assert codes_in(beyond) == []
    back = re.search(r'<a rel="prev" href="([^"]+)"', beyond).group(1)
    assert back.endswith("/courses?level=initial")  # the filter kept, offset 0 left out


def test_anonymous_sees_only_the_public_catalogue(anon):
    page = anon.get("/courses", params={"status": "draft"})
    assert page.status_code == 200
    full_page(page.text)
    shown = codes_in(page.text)
    assert "HR-101" in shown
    assert not set(shown) & set(NOT_PUBLIC)
    assert 'name="status"' not in page.text  # no status filter for the public
    assert "New course" not in page.text
    for code in NOT_PUBLIC:
        assert anon.get(f"/courses/{code}", headers={"accept": "text/html"}).status_code == 404
    detail = anon.get("/courses/HR-101").text
    assert "/courses/HR-103" in detail and "/courses/HR-206" not in detail  # a draft requires it
    assert "Plans that use this course" not in detail and "Change history" not in detail


def test_course_page_shows_hours_outcomes_links_plans_and_history(browser_as):
    viewer = browser_as("viewer")
    response = viewer.get("/courses/HR-101")
    assert response.status_code == 200
    html = response.text
    full_page(html)
    hours = re.findall(r'<td class="num(?: strong)?">(\d+)</td>', html)
    assert hours[:6] == ["20", "12", "4", "36", "44", "80"]
    assert "Explain the State&#39;s duties to respect" in html
    assert '<span class="badge bloom">Understand</span>' in html
    assert "/instruments/iccpr-1966" in html and "Right to life" in html
    assert "/courses/HR-103" in html and "/courses/HR-206" in html  # required by
    assert "Initial Training Programme for Patrol Officers" in html  # a plan placing it
    assert "Change history" in html and "loader:curricula" in html
    assert "Edit course" not in html  # viewers read only
    assert viewer.get("/courses/XX-999", headers={"accept": "text/html"}).status_code == 404
    fragment = viewer.get("/courses/HR-101", headers={"HX-Request": "true"}).text
    assert "<html" not in fragment and "HR-101" in fragment


def test_language_course_shows_target_language_and_cefr(client):
    code = client.get(
        "/api/v1/courses", params={"domain": "foreign_languages", "status": "approved"}
    )
    course = code.json()["items"][0]
    html = client.get(f"/courses/{course['code']}").text
    assert f"CEFR {course['cefr_level']}" in html


def test_create_with_invalid_values_shows_errors_next_to_fields(browser_as):
    planner = browser_as("planner")
    form = planner.get("/courses/new")
    assert form.status_code == 200
    full_page(form.text)
    bad = planner.post(
        "/courses",
        data={
            "csrftoken": csrf_from(form.text),
            "code": "bad code",
            "title": "x",
            "domain": "human_rights",
            "level": "initial",
            "status": "draft",
            "lecture_hours": "-5",
            "credits": "0.3",
            "outcomes": "remember: Name the sources\nno level on this line",
            "topics": "Sources of law",
        },
    )
    assert bad.status_code == 422
    full_page(bad.text)
    for name in ("code", "title", "lecture_hours", "credits", "outcomes"):
        assert f'id="e-{name}"' in bad.text, name
        assert f'aria-describedby="e-{name}' in bad.text
    assert 'value="bad code"' in bad.text and 'value="-5"' in bad.text  # kept as typed
    assert "no level on this line</textarea>" in bad.text
    assert "Line 2" in bad.text
    assert 'href="#f-title"' in bad.text  # the summary links to the field


def test_service_errors_show_next_to_their_field(browser_as, client):
    planner = browser_as("planner")
    token = csrf_from(planner.get("/courses/new").text)
    base = {
        "csrftoken": token,
        "title": "Test course",
        "domain": "human_rights",
        "level": "initial",
    }
    unknown = planner.post(
        "/courses", data={**base, "code": "ZZ-901", "prerequisites": "HR-101, ZZ-999"}
    )
    assert unknown.status_code == 422
    assert re.search(
        r'id="e-prerequisites">Item 2: no course with code \'ZZ-999\'',
        unknown.text.replace("&#39;", "'"),
    )
    assert 'value="HR-101, ZZ-999"' in unknown.text
    assert client.get("/api/v1/courses/ZZ-901").status_code == 404  # nothing half-made
    taken = planner.post("/courses", data={**base, "code": "HR-101"})
    assert taken.status_code == 422 and 'id="e-code">already in use' in taken.text
    language = planner.post(
        "/courses", data={**base, "code": "ZZ-902", "domain": "foreign_languages"}
    )
    assert language.status_code == 422 and 'id="e-cefr_level"' in language.text


def test_create_redirects_to_the_new_course(browser_as, client):
    planner = browser_as("planner")
    token = csrf_from(planner.get("/courses/new").text)
    response = planner.post(
        "/courses",
        data={
            "csrftoken": token,
            "code": "zz-950",
            "title": "Interviewing Victims of Trafficking",
            "domain": "transnational_crime",
            "level": "in_service",
            "status": "draft",
            "restricted": "true",
            "lecture_hours": "10",
            "seminar_hours": "6",
            "practical_hours": "8",
            "self_study_hours": "12",
            "credits": "1.5",
            "language_of_instruction": "ru",
            "outcomes": "apply: Plan a victim-centred interview\nevaluate: Judge the risk of re-traumatisation",
            "topics": "Indicators of trafficking\n\nVictim-centred interviewing",
            "references": "UNODC, Toolkit to Combat Trafficking in Persons, 2008",
            "prerequisites": "hr-101",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("/courses/ZZ-950")
    course = client.get("/api/v1/courses/ZZ-950").json()
    assert course["hours"]["contact"] == 24 and course["credits"] == 1.5 and course["restricted"]
    assert [o["bloom"] for o in course["outcomes"]] == ["apply", "evaluate"]
    assert course["topics"] == ["Indicators of trafficking", "Victim-centred interviewing"]
    assert course["prerequisites"] == ["HR-101"]
    page = planner.get(response.headers["location"]).text
    assert "Interviewing Victims of Trafficking" in page and "Restricted" in page


def test_edit_saves_and_a_stale_version_shows_the_fresh_course(browser_as, client):
    create_course(client, code="ZZ-960", title="Original title")
    planner = browser_as("planner")
    opened = planner.get("/courses/ZZ-960/edit")
    assert opened.status_code == 200
    full_page(opened.text)
    form = form_of(opened.text)
    assert form["title"] == "Original title" and form["lecture_hours"] == "10"

    # someone else saves first
    etag = client.get("/api/v1/courses/ZZ-960").headers["etag"]
    changed = client.patch(
        "/api/v1/courses/ZZ-960",
        json={"title": "Title changed meanwhile"},
        headers={"If-Match": etag},
    )
    assert changed.status_code == 200

    stale = planner.post("/courses/ZZ-960/edit", data={**form, "title": "My edit"})
    assert stale.status_code == 412
    full_page(stale.text)
    assert "Someone else changed this course since you opened it" in stale.text
    fresh = form_of(stale.text)
    assert fresh["title"] == "Title changed meanwhile"
    assert int(fresh["version"]) == int(form["version"]) + 1

    saved = planner.post(
        "/courses/ZZ-960/edit", data={**fresh, "title": "My edit"}, follow_redirects=False
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("/courses/ZZ-960")
    assert client.get("/api/v1/courses/ZZ-960").json()["title"] == "My edit"
    page = planner.get("/courses/ZZ-960").text
    assert "Updated" in page and "user:planner" in page  # the change history


def test_edit_with_invalid_values_keeps_the_typed_values(browser_as, client):
    create_course(client, code="ZZ-961")
    planner = browser_as("planner")
    form = form_of(planner.get("/courses/ZZ-961/edit").text)
    bad = planner.post("/courses/ZZ-961/edit", data={**form, "title": "ab"})
    assert bad.status_code == 422
    full_page(bad.text)
    assert 'id="e-title"' in bad.text and 'value="ab"' in bad.text
    assert f'name="version" value="{form["version"]}"' in bad.text
    # the service refuses a cycle after it has claimed the next version: nothing is kept
    cycle = planner.post("/courses/ZZ-961/edit", data={**form, "prerequisites": "ZZ-961"})
    assert cycle.status_code == 422
    assert 'id="e-prerequisites">prerequisites form a cycle' in cycle.text
    assert 'value="ZZ-961"' in cycle.text
    course = client.get("/api/v1/courses/ZZ-961").json()
    assert course["version"] == int(form["version"]) and course["prerequisites"] == []


@pytest.mark.parametrize("path", ["/courses/new", "/courses/HR-101/edit"])
def test_only_writers_open_the_forms(browser_as, anon, path):
    assert browser_as("viewer").get(path, headers={"accept": "text/html"}).status_code == 403
    response = anon.get(path, headers={"accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_forms_need_the_csrf_token(browser_as, client):
    planner = browser_as("planner")
    del planner.headers["X-CSRF-Token"]
    response = planner.post(
        "/courses",
        data={"code": "ZZ-970", "title": "No token", "domain": "tactics", "level": "initial"},
    )
    assert response.status_code == 403
    assert client.get("/api/v1/courses/ZZ-970").status_code == 404
