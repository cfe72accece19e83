"""The coverage heat-map page: courses x instruments, filters, gaps, fragments, query counts."""

import re
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
FRAGMENT = {"HX-Request": "true", "HX-Target": "coverage-matrix"}


class Page(HTMLParser):
    """Checks nesting and ids, and notes the matrix's rows, columns and cells on the way."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict]] = []
        self.ids: list[str] = []
        self.problems: list[str] = []
        self.rows: list[str] = []  # course codes, in order
        self.columns: list[dict] = []  # {"title", "gap", "text"}
        self.cells: list[dict] = []  # {"class", "title", "text"}
        self.feed(html)
        self.close()
        if self.stack:
            self.problems.append(f"unclosed: {[t for t, _ in self.stack]}")
        dupes = {i for i in self.ids if self.ids.count(i) > 1}
        if dupes:
            self.problems.append(f"duplicate ids: {dupes}")

    def _inside(self, tag: str, **attrs) -> dict | None:
        for t, a in reversed(self.stack):
            if t == tag and all(a.get(k) == v for k, v in attrs.items()):
                return a
        return None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if "style" in a or (tag == "script" and "src" not in a):
            self.problems.append(f"inline style or script in <{tag}>")
        if tag == "th" and a.get("scope") == "col" and "inst" in a.get("class", ""):
            self.columns.append({"gap": "gap" in a["class"].split(), "title": "", "text": ""})
        if tag == "a" and self._inside("th", scope="col") is not None and self.columns:
            self.columns[-1]["title"] = a.get("title", "")
        if tag == "td":
            self.cells.append(
                {"class": a.get("class", ""), "title": a.get("title", ""), "text": ""}
            )
        if tag not in VOID:
            self.stack.append((tag, {**a, "_text": ""}))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        while self.stack and self.stack[-1][0] in ("p", "li") and tag != self.stack[-1][0]:
            self.stack.pop()  # implicitly closed
        if not self.stack or self.stack[-1][0] != tag:
            self.problems.append(
                f"</{tag}> does not close <{self.stack[-1][0] if self.stack else ''}>"
            )
            return
        self.stack.pop()

    def handle_data(self, data):
        span = self._inside("span", **{"class": "code"})
        if span is not None and self._inside("th", scope="row") is not None:
            self.rows.append(data.strip())
        if self._inside("td") is not None and self.cells:
            self.cells[-1]["text"] += data
        if self._inside("th", scope="col") is not None and self.columns:
            self.columns[-1]["text"] += data

    @property
    def column_codes(self) -> list[str]:
        return [re.search(r"\(([^()]+)\)$", c["title"]).group(1) for c in self.columns]


def page(response) -> Page:
    assert response.status_code == 200, response.text[:500]
    parsed = Page(response.text)
    assert not parsed.problems, parsed.problems
    return parsed


def test_full_page_and_htmx_fragment(client):
    full = client.get("/coverage")
    assert "HX-Request" in full.headers["vary"]
    assert full.text.lstrip().lower().startswith("<!doctype html>")
    assert "css/coverage.css" in full.text
    assert 'data-hx-get="' in full.text and 'data-hx-push-url="true"' in full.text
    assert 'hx-target="#coverage-matrix"' in full.text
    whole = page(full)
    linked = {c["instrument"] for c in client.get("/api/v1/coverage").json()["cells"]}
    assert len(whole.rows) == 53 and len(whole.columns) == len(linked) == 30  # shipped, linked

    fragment = client.get("/coverage", headers=FRAGMENT)
    part = page(fragment)
    assert "<html" not in fragment.text and "<form" not in fragment.text
    assert "Legend" not in fragment.text  # the legend stays; only the matrix region is swapped
    assert part.rows == whole.rows and part.column_codes == whole.column_codes
    assert 'id="coverage-status" data-hx-swap-oob="innerHTML"' in fragment.text

    # htmx restoring history (no cache) needs the whole page, not the region.
    restored = client.get("/coverage", headers={**FRAGMENT, "HX-History-Restore-Request": "true"})
    assert restored.text.lstrip().lower().startswith("<!doctype html>")


def test_the_page_reads_without_javascript(client):
    html = client.get("/coverage").text
    form = re.search(r"<form[^>]*>", html).group(0)
    assert 'method="get"' in form and 'action="http://testserver/coverage"' in form
    assert '<button type="submit">' in html
    for field in ("domain", "theme", "status"):
        assert f'<label for="f-{field}">' in html and f'name="{field}"' in html
    assert 'tabindex="0"' in html  # the scrolling matrix can be scrolled from the keyboard


def test_filters_narrow_rows_and_columns(client):
    api = client.get("/api/v1/coverage", params={"domain": "tactics", "theme": "use_of_force"})
    expected = api.json()
    narrowed = page(client.get("/coverage", params={"domain": "tactics", "theme": "use_of_force"}))
    assert narrowed.rows == [c["code"] for c in expected["courses"]]
    used = {c["instrument"] for c in expected["cells"]}  # columns: what these courses link to
    assert narrowed.column_codes == [
        i["code"] for i in expected["instruments"] if i["code"] in used
    ]
    assert 0 < len(narrowed.rows) < 53 and 0 < len(narrowed.columns) < 35
    assert 'value="tactics" selected' in client.get("/coverage?domain=tactics").text

    drafts = page(client.get("/coverage", params={"status": "draft"}))
    assert drafts.rows and all(
        c["status"] == "draft"
        for c in client.get("/api/v1/coverage", params={"status": "draft"}).json()["courses"]
    )
    assert len(drafts.rows) < 53

    everything = page(client.get("/coverage", params={"domain": "", "theme": "", "status": ""}))
    assert len(everything.rows) == 53  # the form's "any" options filter nothing

    assert client.get("/coverage", params={"domain": "astrology"}).status_code == 422


def test_gap_columns_are_marked_and_listed(client):
    uncovered = client.get("/api/v1/coverage/gaps").json()["uncovered_instruments"]
    assert uncovered  # the shipped catalogue has gaps; the test needs some
    response = client.get("/coverage")
    parsed = page(response)
    marked = {
        code for code, col in zip(parsed.column_codes, parsed.columns, strict=True) if col["gap"]
    }
    assert marked == {g["code"] for g in uncovered} & set(parsed.column_codes)
    assert marked  # some gap instruments are linked (referenced) by a course, so are columns
    for col in parsed.columns:
        assert ("GAP" in col["text"].upper()) == col["gap"]  # a visible word, not colour alone
    gaps_section = response.text.split('id="gaps-h"', 1)[1]
    for g in uncovered:
        assert f'href="http://testserver/instruments/{g["code"]}"' in gaps_section
    assert (
        f"{len(uncovered)} instruments are taught or assessed by no approved course" in gaps_section
    )
    assert "the gap report has them all" not in gaps_section


def test_the_gap_list_is_bounded(client, monkeypatch):
    from app.pages import coverage as coverage_page

    uncovered = client.get("/api/v1/coverage/gaps").json()["uncovered_instruments"]
    assert len(uncovered) > 2
    monkeypatch.setattr(coverage_page, "GAPS_SHOWN", 2)
    gaps_section = client.get("/coverage").text.split('id="gaps-h"', 1)[1]
    listed = re.findall(r'<li><a href="http://testserver/instruments/([a-z0-9-]+)"', gaps_section)
    assert listed == sorted(g["code"] for g in uncovered)[:2]
    assert "The first 2 by code are listed" in gaps_section
    assert 'href="http://testserver/api/v1/coverage/gaps"' in gaps_section


def test_cells_carry_letters_depth_and_a_description(client):
    matrix = client.get("/api/v1/coverage").json()
    parsed = page(client.get("/coverage"))
    filled = [c for c in parsed.cells if c["class"]]
    assert len(filled) == len(matrix["cells"])
    for cell in filled:
        depth = re.search(r"depth-(introduced|reinforced|mastered)", cell["class"]).group(1)
        mark = {"introduced": "1", "reinforced": "2", "mastered": "3"}[depth]
        assert re.match(rf"^[TPAR]+{mark}", cell["text"]), cell
        assert cell["title"] and cell["title"] in cell["text"]  # also read out, not only hovered
    by_key = {(c["course"], c["instrument"]): c for c in matrix["cells"]}
    iccpr = by_key[("HR-101", "iccpr-1966")]
    titles = {c["title"] for c in filled}
    kinds = "/".join(iccpr["kinds"])
    expected = (
        f"HR-101 {kinds} iccpr-1966, {iccpr['depth']}, {iccpr['hours']} h, "
        f"{iccpr['provisions']} provisions"
    )
    assert expected in titles
    legend = client.get("/coverage").text.split('id="legend-h"', 1)[1]
    for word in ("teaches", "practises", "assesses", "references", "introduced", "mastered"):
        assert word in legend


def test_anonymous_sees_no_draft_or_restricted_rows(anon, client):
    everything = client.get("/api/v1/courses", params={"limit": 500}).json()["items"]
    hidden = {c["code"] for c in everything if c["status"] != "approved" or c["restricted"]}
    assert hidden
    public = page(anon.get("/coverage"))
    assert public.rows and hidden.isdisjoint(public.rows)
    assert set(page(client.get("/coverage")).rows) >= hidden
    assert 'name="status"' not in anon.get("/coverage").text
    assert page(anon.get("/coverage", params={"status": "draft"})).rows == []


def test_query_count_does_not_grow_with_the_matrix(client, count_queries):
    with count_queries() as small:
        client.get("/coverage", params={"domain": "tactics", "theme": "use_of_force"})
    with count_queries() as full:
        client.get("/coverage")
    assert full.count == small.count


def test_a_large_matrix_is_paged_by_courses(client, monkeypatch):
    from app.pages import coverage as coverage_page

    monkeypatch.setattr(coverage_page, "PAGE_SIZE", 20)
    everything = [c["code"] for c in client.get("/api/v1/coverage").json()["courses"]]
    first = client.get("/coverage")
    assert page(first).rows == everything[:20]
    assert (
        'href="http://testserver/coverage?page=2"' in first.text and 'rel="prev"' not in first.text
    )
    last = client.get("/coverage", params={"page": 99}, headers=FRAGMENT)  # clamped to the last
    assert page(last).rows == everything[40:]
    assert 'rel="next"' not in last.text and "page=2" in last.text
    assert f"41–{len(everything)} of {len(everything)}" in last.text
    hr = client.get("/coverage", params={"domain": "human_rights", "page": 1}).text
    assert 'rel="next"' not in hr  # fewer than a page of human-rights courses
    assert client.get("/coverage", params={"page": 0}).status_code == 422
