"""Course syllabi and plan books: every file is opened with an independent reader and read back."""

import base64
import hashlib
import io
import json
import re
import zipfile
from datetime import UTC, datetime

import docx
import pypdf
import pytest
from fastapi.testclient import TestClient

from app.exports import loading, stamp
from app.models.accounts import ClientCreate, Scope
from app.services import accounts, courses
from tests.factories import PlanClient, create_course

URL = "/api/v1/courses/{}/syllabus"
SECTIONS = (
    "Aims",
    "Learning outcomes",
    "Hours",
    "Topic outline",
    "Prerequisites",
    "Legal basis",
    "Assessment",
    "Language",
    "References",
)
# Uzbek in Latin (oʻ gʻ with U+02BB) and Cyrillic (ў қ ғ ҳ) script, and Russian.
UZ_LATIN = "Oʻzbek tilida gʻoyalar"
UZ_CYRILLIC = "Ўқув қонун ғоя ҳуқуқ"
RUSSIAN = "Права человека в деятельности полиции"


def pdf_text(body: bytes) -> str:
    """The text layer, with runs of whitespace (line breaks in table cells too) as one space."""
    pages = pypdf.PdfReader(io.BytesIO(body)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def get(client: TestClient, url: str, fmt: str, status: int = 200):
    response = client.get(url, params={"format": fmt})
    assert response.status_code == status, response.text
    return response


@pytest.fixture
def multilingual(client):
    """A language course whose title and texts are in Uzbek (both scripts) and Russian."""
    course = create_course(
        client,
        code="QX-101",
        title=f"{UZ_CYRILLIC} — {UZ_LATIN}",
        domain="foreign_languages",
        target_language="ru",
        cefr_level="B1",
        description=RUSSIAN,
        outcomes=[{"text": f"{RUSSIAN}: объяснить статью 9", "bloom": "apply"}],
        prerequisites=["HR-101"],
    )
    linked = client.post(
        f"/api/v1/courses/{course['code']}/links",
        headers={"If-Match": "*"},
        json={"target": "iccpr-1966/art-9", "kind": "teaches", "depth": "reinforced", "hours": 2},
    )
    assert linked.status_code == 201, linked.text
    return course


# ---- single course ----------------------------------------------------------------------------


def test_pdf_has_header_outcomes_articles_and_page_numbers(client):
    response = get(client, URL.format("HR-101"), "pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="HR-101-syllabus.pdf"'
    )
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    text = pdf_text(response.content)
    assert "Academy of the Ministry of Internal Affairs" in text
    assert "HR-101 International Human Rights Standards" in text
    assert "Identify the principal universal and regional sources" in text
    assert "Art. 2 — Obligation to respect" in text
    assert "International Covenant on Civil and Political Rights" in text
    assert f"Page 1 of {len(reader.pages)}" in text
    for heading in SECTIONS:
        assert heading in text
    fonts = {
        font.get_object()["/BaseFont"].split("+")[-1]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts <= {"Planner-Sans", "Planner-Sans-Bold", "Planner-Sans-Italic"}, fonts


def test_pdf_prints_uzbek_in_both_scripts_and_russian(client, multilingual):
    text = pdf_text(get(client, URL.format("QX-101"), "pdf").content)
    for phrase in (UZ_LATIN, UZ_CYRILLIC, RUSSIAN, "Russian (ru)", "B1", "Art. 9 — Liberty"):
        assert phrase in text, phrase


def test_docx_has_word_headings_and_real_tables(client):
    response = get(client, URL.format("HR-101"), "docx")
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="HR-101-syllabus.docx"'
    )
    document = docx.Document(io.BytesIO(response.content))
    headings = [
        (p.style.name, p.text) for p in document.paragraphs if p.style.name[:7] == "Heading"
    ]
    assert headings[0] == (
        "Heading 1",
        "HR-101 International Human Rights Standards for Law Enforcement",
    )
    assert [text for style, text in headings if style == "Heading 2"] == list(SECTIONS)
    hours, legal = document.tables
    assert [c.text for c in hours.rows[0].cells] == [
        "Lecture",
        "Seminar",
        "Practical",
        "Self-study",
        "Contact",
        "Total",
    ]
    assert [c.text for c in hours.rows[1].cells] == ["20", "12", "4", "44", "36", "80"]
    rows = [[c.text for c in row.cells] for row in legal.rows]
    assert rows[0] == ["Instrument", "Provision", "Link", "Depth", "Hours"]
    assert [
        "International Covenant on Civil and Political Rights (iccpr-1966)",
        "Art. 2 — Obligation to respect and ensure rights; effective remedy",
        "Teaches",
        "Introduced",
        "2",
    ] in rows
    body = "\n".join(p.text for p in document.paragraphs)
    assert "1. Identify the principal universal" in body


def test_markdown_is_clean_and_escapes_stored_text(client, multilingual):
    create_course(client, code="QX-102", title="Pipes | and *stars* in <b>titles</b>")
    md = get(client, URL.format("QX-102"), "md").text
    assert md.startswith("# QX-102 Pipes \\| and \\*stars\\* in \\<b\\>titles\\</b\\>\n")
    md = get(client, URL.format("QX-101"), "md").text
    for heading in SECTIONS:
        assert f"\n## {heading}\n" in md
    assert "| Instrument | Provision | Link | Depth | Hours |" in md
    assert (
        "| International Covenant on Civil and Political Rights (iccpr-1966) | "
        "Art. 9 — Liberty and security of person | Teaches | Reinforced | 2 |"
    ) in md
    assert "- Target language: Russian (ru)" in md and "- CEFR level: B1" in md
    assert "\n## Prerequisites\n\nHR-101\n" in md


def test_json_is_the_documented_structure(client, multilingual):
    response = get(client, URL.format("QX-101"), "json")
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="QX-101-syllabus.json"'
    )
    doc = response.json()
    assert doc["schema_version"] == 1
    assert doc["academy"] == "Academy of the Ministry of Internal Affairs"
    course = doc["course"]
    assert course["code"] == "QX-101" and course["title"].startswith(UZ_CYRILLIC)
    assert course["aims"] == RUSSIAN
    assert course["outcomes"] == [
        {"position": 1, "text": f"{RUSSIAN}: объяснить статью 9", "bloom": "apply"}
    ]
    assert course["legal_basis"] == [
        {
            "instrument": "iccpr-1966",
            "instrument_title": "International Covenant on Civil and Political Rights",
            "provision": "iccpr-1966/art-9",
            "number": "Art. 9",
            "heading": "Liberty and security of person",
            "kind": "teaches",
            "depth": "reinforced",
            "hours": 2,
        }
    ]
    assert (course["target_language"], course["cefr_level"]) == ("ru", "B1")
    assert course["hours"]["contact"] == 20 and course["prerequisites"] == ["HR-101"]
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert "schema_version" in schema["SyllabusDocument"]["properties"]


def test_html_has_every_section_and_its_style_is_allowed(client):
    response = get(client, URL.format("HR-101"), "html")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-disposition"].startswith(
        'inline; filename="HR-101-syllabus.html"'
    )
    html = response.text
    for section in (
        "aims",
        "outcomes",
        "hours",
        "topics",
        "prerequisites",
        "legal-basis",
        "assessment",
        "language",
        "references",
    ):
        assert f'<section class="{section}">' in html
    assert "url(&#34;" not in html and 'url("/static/fonts/DejaVuSans.ttf")' in html
    assert client.get("/static/fonts/DejaVuSans.ttf").status_code == 200
    # The browser applies the inline stylesheet only if the CSP names its hash.
    css = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]


def test_default_format_is_html(client):
    assert client.get(URL.format("HR-101")).headers["content-type"].startswith("text/html")


def test_unknown_course_is_404_and_bad_format_422(client):
    missing = client.get(URL.format("ZZ-999"), params={"format": "pdf"})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    bad = client.get(URL.format("HR-101"), params={"format": "rtf"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in bad.json()["errors"]] == ["query.format"]


@pytest.mark.parametrize("code", ["HR-206", "TA-301"])  # a draft, and a restricted course
def test_courses_outside_the_public_catalogue_are_hidden_from_anonymous(client, anon, code):
    assert anon.get(URL.format("HR-101"), params={"format": "md"}).status_code == 200
    assert anon.get(URL.format(code), params={"format": "md"}).status_code == 404
    assert client.get(URL.format(code), params={"format": "md"}).status_code == 200


# ---- determinism ------------------------------------------------------------------------------

T1 = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
T2 = datetime(2031, 6, 7, 8, 9, 10, tzinfo=UTC)


def rendered(client, monkeypatch, url: str, fmt: str, moment: datetime) -> bytes:
    monkeypatch.setattr("app.api.exports.utcnow", lambda: moment)
    return get(client, url, fmt).content


def parts(body: bytes, moment: datetime) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return {n: z.read(n).replace(stamp(moment).encode(), b"<T>") for n in z.namelist()}


@pytest.mark.parametrize("fmt", ["md", "html", "json", "docx"])
def test_same_data_same_bytes_but_the_timestamp(client, monkeypatch, fmt):
    url = URL.format("HR-101")
    first, again = (rendered(client, monkeypatch, url, fmt, T1) for _ in range(2))
    later = rendered(client, monkeypatch, url, fmt, T2)
    assert first == again
    assert first != later
    if fmt == "docx":
        assert parts(first, T1) == parts(later, T2)
        with zipfile.ZipFile(io.BytesIO(first)) as z:  # no clock time hides in the zip either
            assert {m.date_time for m in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert b"2030-01-02T03:04:05Z" in parts(first, T2)["docProps/core.xml"]
    else:
        assert first.replace(stamp(T1).encode(), b"") == later.replace(stamp(T2).encode(), b"")


def test_pdf_is_deterministic_and_dated_by_its_timestamp(client, monkeypatch):
    url = URL.format("HR-101")
    first, again = (rendered(client, monkeypatch, url, "pdf", T1) for _ in range(2))
    assert first == again
    info = pypdf.PdfReader(io.BytesIO(first)).metadata
    assert info["/CreationDate"] == info["/ModDate"] == "D:20300102030405Z"
    later = rendered(client, monkeypatch, url, "pdf", T2)
    assert pdf_text(first).replace(stamp(T1), "") == pdf_text(later).replace(stamp(T2), "")


# ---- the batch loader -------------------------------------------------------------------------


def test_batch_loading_matches_the_course_service(db):
    codes = ["HR-101", "HR-103", "FL-102", "TC-205"]
    rows = [courses.get(db, code) for code in codes]
    for syllabus, course in zip(loading.syllabi(db, rows), rows, strict=True):
        read = courses.detail(db, course)
        assert syllabus.code == read.code and syllabus.hours == read.hours
        assert [(o.text, o.bloom) for o in syllabus.outcomes] == [
            (o.text, o.bloom) for o in read.outcomes
        ]
        assert syllabus.prerequisites == read.prerequisites
        assert [
            (e.provision or e.instrument, e.kind, e.depth, e.hours) for e in syllabus.legal_basis
        ] == [(link.target, link.kind, link.depth, link.hours) for link in read.links]


# ---- plan books -------------------------------------------------------------------------------


@pytest.fixture
def plan(client, multilingual):
    plan = PlanClient(client, term_hour_budget=2000, total_hour_budget=5000)
    assert plan.add("HR-101", 1).status_code == 201
    assert plan.add("QX-101", 2).status_code == 201
    assert plan.act("submit", "Ready for review").status_code == 200
    return plan


def test_plan_book_pdf(client, plan):
    response = get(client, f"{plan.url}/syllabus", "pdf")
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="test-programme-for-patrol-officers-2027-v1-syllabus-book.pdf"'
    )
    text = pdf_text(response.content)
    for phrase in (
        "Test programme for patrol officers",
        "Academic year 2027/2028",
        "Approval",
        "Submit Draft In review",
        "Ready for review",
        "Term 1",
        "Term load (budget 2000)",
        "HR-101 International Human Rights Standards",
        UZ_CYRILLIC,
        "Appendix A. Coverage matrix",
        "T/A introduced 4h",
        "Appendix B. Validation findings",
        "Page 1 of",
    ):
        assert phrase in text, phrase


def test_plan_book_docx(client, plan):
    document = docx.Document(io.BytesIO(get(client, f"{plan.url}/syllabus", "docx").content))
    heading1 = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert heading1[:2] == ["Approval", "Term plan"]
    assert heading1[2].startswith("HR-101 ") and heading1[3].startswith("QX-101 ")
    assert heading1[4:] == ["Appendix A. Coverage matrix", "Appendix B. Validation findings"]
    cells = {c.text for t in document.tables for row in t.rows for c in row.cells}
    assert {"Submit", "Ready for review", "HR-101", "T/A introduced 4h"} <= cells


def test_plan_book_json_and_html(client, plan):
    doc = get(client, f"{plan.url}/syllabus", "json").json()
    assert doc["schema_version"] == 1 and doc["plan"]["id"] == plan.id
    assert [c["code"] for c in doc["courses"]] == ["HR-101", "QX-101"]
    assert [t["action"] for t in doc["plan"]["transitions"]] == ["submit"]
    assert {c["code"] for c in doc["coverage"]["courses"]} == {"HR-101", "QX-101"}
    assert doc["validation"]["findings"] and doc["withheld"] == []
    html = get(client, f"{plan.url}/syllabus", "html").text
    for anchor in ('id="approval"', 'id="terms"', 'id="course-HR-101"', 'id="course-QX-101"'):
        assert anchor in html
    assert 'id="coverage"' in html and 'id="findings"' in html


def test_plan_book_errors(client, anon, plan):
    assert client.get("/api/v1/plans/999999/syllabus").status_code == 404
    bad = client.get(f"{plan.url}/syllabus", params={"format": "md"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert anon.get(f"{plan.url}/syllabus").status_code == 401


def test_plan_book_withholds_courses_a_plans_only_reader_may_not_see(app, client, db):
    plan = PlanClient(client, term_hour_budget=2000)
    plan.add("HR-101", 1)
    plan.add("TA-301", 1)  # restricted
    _, token = accounts.create_client(
        db, ClientCreate(name="plans-only", scopes=[Scope.plans_read]), actor="tests"
    )
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as reader:
        doc = reader.get(f"{plan.url}/syllabus", params={"format": "json"}).json()
    assert [c["code"] for c in doc["courses"]] == ["HR-101"] and doc["withheld"] == ["TA-301"]
    full = client.get(f"{plan.url}/syllabus", params={"format": "json"}).json()
    assert [c["code"] for c in full["courses"]] == ["HR-101", "TA-301"]


def test_plan_book_query_count_does_not_grow_with_its_courses(client, count_queries):
    codes = [
        c["code"]
        for c in client.get("/api/v1/courses", params={"status": "approved", "limit": 10}).json()[
            "items"
        ]
    ]
    small, large = (PlanClient(client, term_hour_budget=5000) for _ in range(2))
    for code in codes[:2]:
        small.add(code, 1)
    for code in codes:
        large.add(code, 2)
    counts = []
    for plan in (small, large):
        with count_queries() as counter:
            get(client, f"{plan.url}/syllabus", "html")
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert len(json.loads(get(client, f"{large.url}/syllabus", "json").text)["courses"]) == 10
