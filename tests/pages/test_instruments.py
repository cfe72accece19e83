"""Instrument registry pages: the list grouped by theme, and one instrument with its coverage."""

import re

from tests.factories import create_course
from tests.pages.htmlcheck import check_html


def groups_in(html: str) -> dict[str, list[str]]:
    """Theme -> instrument codes listed under it."""
    out = {}
    pattern = r'<section class="theme-group" id="theme-([a-z_]+)"(.*?)</section>'
    for theme, body in re.findall(pattern, html, re.S):
        out[theme] = re.findall(r'href="[^"]*/instruments/([a-z0-9-]+)"', body)
    return out


def test_list_groups_instruments_by_theme_and_htmx_gets_the_results(client):
    page = client.get("/instruments")
    assert page.status_code == 200
    check_html(page.text)
    assert page.text.count("<h1") == 1 and "HX-Request" in page.headers["vary"]
    groups = groups_in(page.text)
    assert "iccpr-1966" in groups["human_rights"] and "iccpr-1966" in groups["fair_trial"]
    assert "montreal-1971" in groups["aviation_security"]
    assert "iccpr-1966" not in groups["drugs"]
    assert 'href="#theme-human_rights"' in page.text  # the theme index
    row = re.search(r'instruments/iccpr-1966">ICCPR</a>.*?</tr>', page.text, re.S).group(0)
    assert "International Covenant on Civil and Political Rights" in row
    assert "1966-12-16" in row and "1976-03-23" in row and "Convention" in row

    fragment = client.get("/instruments", params={"theme": "drugs"}, headers={"HX-Request": "true"})
    check_html(fragment.text)
    assert "<html" not in fragment.text and "<form" not in fragment.text
    assert list(groups_in(fragment.text)) == ["drugs"]


def test_filters_kind_party_and_search(client):
    declarations = groups_in(client.get("/instruments", params={"kind": "declaration"}).text)
    codes = {c for members in declarations.values() for c in members}
    assert "udhr-1948" in codes and "iccpr-1966" not in codes

    parties = client.get("/instruments", params={"party": "uz"}).text
    listed = {c for members in groups_in(parties).values() for c in members}
    assert "iccpr-1966" in listed and "udhr-1948" not in listed  # a declaration has no parties

    found = groups_in(client.get("/instruments", params={"q": "torture"}).text)
    assert "cat-1984" in {c for members in found.values() for c in members}
    assert "montreal-1971" not in {c for members in found.values() for c in members}

    bad = client.get("/instruments", params={"party": "Uzbekistan"})
    assert bad.status_code == 422
    check_html(bad.text)
    assert 'id="e-party"' in bad.text and 'aria-describedby="e-party' in bad.text
    assert 'value="Uzbekistan"' in bad.text


def test_instrument_page_shows_facts_participation_relations_and_coverage(client):
    response = client.get("/instruments/iccpr-1966")
    assert response.status_code == 200
    html = response.text
    check_html(html)
    assert html.count("<h1") == 1
    assert "International Covenant on Civil and Political Rights" in html
    assert "New York" in html and "A/RES/2200 A (XXI)" in html
    assert 'href="https://www.ohchr.org/' in html
    row = re.search(r"<caption[^>]*>States&#39; participation</caption>.*?</table>", html, re.S)
    assert "Uzbekistan" in row.group(0) and "Acceded" in row.group(0)
    assert "1995-09-28" in row.group(0)
    art6 = re.search(r"Art\. 6</span> Right to life.*?</tr>", html, re.S).group(0)
    assert "/courses/HR-101" in art6 and "Not covered" not in art6

    detail = client.get("/api/v1/instruments/iccpr-1966").json()
    uncovered = [p for p in detail["provisions"] if not p["covered_by"]]
    assert html.count('<span class="badge not-covered">Not covered</span>') == len(uncovered)
    for p in uncovered:
        row = re.search(re.escape(p["number"]) + r"</span>.*?</tr>", html, re.S).group(0)
        assert "Not covered" in row

    protocol = client.get("/instruments/untoc-2000").text
    assert "Supplemented by" in protocol and "/instruments/untoc-trafficking-2000" in protocol
    trafficking = client.get("/instruments/untoc-trafficking-2000").text
    assert 'Supplements</dt><dd><a href="http://testserver/instruments/untoc-2000"' in trafficking


def test_not_covered_goes_away_when_a_course_teaches_the_provision(client):
    detail = client.get("/api/v1/instruments/iccpr-1966").json()
    gap = next(p for p in detail["provisions"] if not p["covered_by"])
    before = client.get("/instruments/iccpr-1966").text.count(">Not covered<")
    create_course(client, code="ZZ-980", status="approved")
    etag = client.get("/api/v1/courses/ZZ-980").headers["etag"]
    linked = client.post(
        "/api/v1/courses/ZZ-980/links",
        json={"target": gap["code"], "kind": "teaches", "hours": 2},
        headers={"If-Match": etag},
    )
    assert linked.status_code == 201
    html = client.get("/instruments/iccpr-1966").text
    assert html.count(">Not covered<") == before - 1
    assert "/courses/ZZ-980" in html


def test_anonymous_sees_no_draft_course_on_an_instrument(anon, client):
    create_course(client, code="ZZ-981", status="draft")
    etag = client.get("/api/v1/courses/ZZ-981").headers["etag"]
    client.post(
        "/api/v1/courses/ZZ-981/links",
        json={"target": "iccpr-1966/art-6", "kind": "assesses"},
        headers={"If-Match": etag},
    )
    assert "/courses/ZZ-981" in client.get("/instruments/iccpr-1966").text
    public = anon.get("/instruments/iccpr-1966")
    assert public.status_code == 200
    assert "/courses/ZZ-981" not in public.text and "/courses/HR-101" in public.text
    assert anon.get("/instruments").status_code == 200
    assert (
        anon.get("/instruments/no-such-thing", headers={"accept": "text/html"}).status_code == 404
    )


def test_detail_lists_a_bounded_number_of_courses_and_counts_the_rest(client, monkeypatch):
    from app.pages import instruments as page_module

    full = client.get("/instruments/iccpr-1966").text
    linked = len(re.findall(r'<th scope="row"><a href="[^"]*/courses/', full))
    assert linked > 2
    monkeypatch.setattr(page_module, "COURSE_ROWS", 2)
    monkeypatch.setattr(page_module, "PER_CELL", 1)
    page = client.get("/instruments/iccpr-1966")
    check_html(page.text)
    assert len(re.findall(r'<th scope="row"><a href="[^"]*/courses/', page.text)) == 2
    assert f"The first 2 of {linked} courses are listed here." in page.text
    assert "/courses?instrument=iccpr-1966" in page.text
    assert re.search(r"and \d+ more", page.text)
