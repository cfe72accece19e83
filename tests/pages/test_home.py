"""The home page: counts, plans by status, gaps, recent changes, quick links."""

import re
from html.parser import HTMLParser

from tests.factories import create_course

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class WellFormed(HTMLParser):
    """Balanced tags (p and li may close implicitly), unique ids, no inline style or script."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ids: list[str] = []
        self.problems: list[str] = []
        self.feed(html)
        self.close()
        if self.stack:
            self.problems.append(f"unclosed: {self.stack}")
        dupes = {i for i in self.ids if self.ids.count(i) > 1}
        if dupes:
            self.problems.append(f"duplicate ids: {dupes}")

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if "style" in a or (tag == "script" and "src" not in a):
            self.problems.append(f"inline style or script in <{tag}>")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        while self.stack and self.stack[-1] in ("p", "li") and self.stack[-1] != tag:
            self.stack.pop()
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.stack.pop()


def home(c) -> str:
    response = c.get("/")
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert "HX-Request" in response.headers["vary"]
    problems = WellFormed(response.text).problems
    assert not problems, problems
    return response.text


def count_of(html: str, label: str) -> int:
    return int(re.search(rf"<dt>{label}</dt><dd>(\d+)</dd>", html).group(1))


def test_home_shows_counts_and_quick_links(client):
    html = home(client)
    assert count_of(html, "Instruments") == client.get("/api/v1/instruments").json()["total"]
    assert count_of(html, "Courses") == client.get("/api/v1/courses").json()["total"]
    assert count_of(html, "Plans") == client.get("/api/v1/plans").json()["total"]
    assert count_of(html, "Provisions") > count_of(html, "Instruments") > 0
    assert count_of(html, "Course links") > 0
    for path in ("/courses", "/instruments", "/coverage", "/plans", "/docs", "/api/v1/courses"):
        assert f'href="http://testserver{path}"' in html
    assert "css/coverage.css" in html


def test_anonymous_counts_only_public_courses_and_sees_no_plans_or_changes(anon, client):
    html = home(anon)
    assert count_of(html, "Courses") == anon.get("/api/v1/courses").json()["total"]
    assert count_of(html, "Courses") < count_of(home(client), "Courses")
    assert "<dt>Plans</dt>" not in html and "Plans by status" not in html
    assert "/plans?status=" not in html
    assert "Recent changes" not in html


def test_gaps_list_the_first_uncovered_instruments_and_the_unassessed_count(client):
    gaps = client.get("/api/v1/coverage/gaps").json()
    html = home(client)
    section = html.split('id="gaps-h"', 1)[1].split("</section>", 1)[0]
    listed = re.findall(r'href="http://testserver/instruments/([^"]+)"', section)
    assert listed == [g["code"] for g in gaps["uncovered_instruments"]][:8]
    assert f"{len(gaps['unassessed_provisions'])} provisions are not assessed" in section
    assert 'href="http://testserver/coverage"' in section


def test_plans_by_status_for_those_who_read_plans(client, browser_as):
    plans = client.get("/api/v1/plans", params={"limit": 100}).json()["items"]
    for c in (client, browser_as("viewer")):
        html = home(c)
        section = html.split('id="plans-h"', 1)[1].split("</section>", 1)[0]
        for status in ("draft", "in_review", "approved", "archived"):
            n = sum(p["status"] == status for p in plans)
            link = f'href="http://testserver/plans?status={status}"><span class="n">{n}</span>'
            assert link in section


def test_recent_changes_only_for_signed_in_staff(client, anon, browser_as):
    course = create_course(client)
    viewer = home(browser_as("viewer"))
    changes = viewer.split('id="changes-h"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<tr>\s*<td><time", changes)
    assert 0 < len(rows) <= 10
    newest = changes.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert course["code"] in newest and "client:test-suite" in newest
    assert "Recent changes" not in home(client)  # a machine client is not staff
    assert "Recent changes" not in home(anon)


def test_home_query_count_is_constant(client, browser_as, count_queries):
    viewer = browser_as("viewer")
    with count_queries() as before:
        viewer.get("/")
    for target in ("ccleo-1979", "ced-2006", "opcat-2002"):  # more courses, links and changes
        code = create_course(client)["code"]
        linked = client.post(
            f"/api/v1/courses/{code}/links",
            headers={"If-Match": "*"},
            json={"target": target, "kind": "teaches", "hours": 2},
        )
        assert linked.status_code == 201, linked.text
    with count_queries() as after:
        viewer.get("/")
    assert after.count == before.count
