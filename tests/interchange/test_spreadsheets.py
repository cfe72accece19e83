"""Spreadsheet round trip of courses and instruments, read back with independent readers."""

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import func, select

from app.models.audit import AuditEvent
from tests.factories import create_course

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export(client, kind, fmt):
    response = client.get(f"/api/v1/exports/{kind}", params={"format": fmt})
    assert response.status_code == 200, response.text
    assert f".{fmt}" in response.headers["content-disposition"]
    return response.content


def read_csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def read_xlsx(content: bytes) -> list[dict[str, object]]:
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def write_csv(rows: list[dict[str, object]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def write_xlsx(rows: list[dict[str, object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, kind, content, name, dry_run):
    media = XLSX if name.endswith("xlsx") else "text/csv"
    return client.post(
        f"/api/v1/imports/{kind}",
        params={"dry_run": dry_run},
        files={"file": (name, content, media)},
    )


def audit_count(db):
    return db.exec(select(func.count()).select_from(AuditEvent)).one()


def test_course_export_layout(client):
    rows = {r["code"]: r for r in read_csv(export(client, "courses", "csv"))}
    hr = rows["HR-101"]
    detail = client.get("/api/v1/courses/HR-101").json()
    assert hr["title"] == detail["title"] and hr["lecture_hours"] == "20"
    assert hr["outcomes"].splitlines()[0] == f"remember: {detail['outcomes'][0]['text']}"
    assert "udhr-1948 teaches introduced 3" in hr["links"].splitlines()
    assert "iccpr-1966/art-2 teaches introduced 2" in hr["links"].splitlines()
    total = client.get("/api/v1/courses", params={"limit": 1}).json()["total"]
    assert len(rows) == total
    sheet = {r["code"]: r for r in read_xlsx(export(client, "courses", "xlsx"))}
    assert sheet["HR-101"]["outcomes"] == hr["outcomes"]
    assert sheet["HR-101"]["lecture_hours"] == 20  # numbers stay numbers in XLSX


def test_instrument_export_has_one_row_per_provision(client):
    rows = read_csv(export(client, "instruments", "csv"))
    iccpr = [r for r in rows if r["code"] == "iccpr-1966"]
    detail = client.get("/api/v1/instruments/iccpr-1966").json()
    assert [r["provision_number"] for r in iccpr] == [p["number"] for p in detail["provisions"]]
    assert {r["title"] for r in iccpr} == {detail["title"]}
    assert iccpr[0]["participation"].split()[:2] == [
        detail["participation"][0]["country"],
        detail["participation"][0]["status"],
    ]
    listing = client.get("/api/v1/instruments", params={"limit": 500}).json()["items"]
    assert len(rows) == sum(max(i["provision_count"], 1) for i in listing)
    assert read_xlsx(export(client, "instruments", "xlsx"))[0]["code"] == rows[0]["code"]


@pytest.mark.parametrize("kind", ["courses", "instruments"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_reports_every_row_unchanged(client, db, kind, fmt):
    content = export(client, kind, fmt)
    before = audit_count(db)
    dry = upload(client, kind, content, f"{kind}.{fmt}", True)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["format"] == fmt and report["applied"] is False
    assert {r["outcome"] for r in report["rows"]} == {"unchanged"}, [
        r for r in report["rows"] if r["outcome"] != "unchanged"
    ][:3]
    assert audit_count(db) == before
    applied = upload(client, kind, content, f"{kind}.{fmt}", False).json()
    assert applied["applied"] is True and set(applied["counts"]) == {"unchanged"}
    assert audit_count(db) == before + 1  # the import itself; no entity changed


def test_course_edits_round_trip_through_csv(client, db):
    rows = read_csv(export(client, "courses", "csv"))
    hr = next(r for r in rows if r["code"] == "HR-101")
    hr["title"] = "International Human Rights Standards for Police"
    hr["outcomes"] += "\nevaluate: Judge whether a described arrest was arbitrary."
    hr["links"] += "\niccpr-1966/art-9 assesses mastered 2"
    new = dict(hr)
    new.update(code="HR-190", title="Human rights refresher", prerequisites="HR-101", links="")
    rows.append(new)
    content = write_csv(rows)

    dry = upload(client, "courses", content, "courses.csv", True).json()
    by_code = {r["code"]: r["outcome"] for r in dry["rows"]}
    assert by_code["HR-101"] == "updated" and by_code["HR-190"] == "created"
    assert set(by_code.values()) == {"unchanged", "updated", "created"}
    assert dry["counts"]["updated"] == 1 and dry["counts"]["created"] == 1
    assert client.get("/api/v1/courses/HR-190").status_code == 404

    applied = upload(client, "courses", content, "courses.csv", False)
    assert applied.status_code == 200, applied.text
    course = client.get("/api/v1/courses/HR-101").json()
    assert course["title"] == "International Human Rights Standards for Police"
    assert course["outcomes"][-1] == {
        "text": "Judge whether a described arrest was arbitrary.",
        "bloom": "evaluate",
    }
    assert {"target": "iccpr-1966/art-9", "kind": "assesses", "depth": "mastered"}.items() <= next(
        lk for lk in course["links"] if lk["target"] == "iccpr-1966/art-9"
    ).items()
    assert client.get("/api/v1/courses/HR-190").json()["prerequisites"] == ["HR-101"]
    assert upload(client, "courses", content, "courses.csv", True).json()["counts"] == {
        "unchanged": len(rows)
    }


def test_a_bad_row_changes_nothing(client, db):
    rows = read_xlsx(export(client, "courses", "xlsx"))
    good = next(r for r in rows if r["code"] == "HR-101")
    good["title"] = "A title that must not be saved"
    bad = next(r for r in rows if r["code"] != "HR-101")
    bad["links"] = "nowhere-1900 teaches introduced 1"
    bad["lecture_hours"] = "ten"
    before = audit_count(db)
    response = upload(client, "courses", write_xlsx(rows), "courses.xlsx", False)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    report = {r["code"]: r for r in response.json()["report"]["rows"]}
    assert report[bad["code"]]["outcome"] == "error"
    assert {e["field"] for e in report[bad["code"]]["errors"]} == {"lecture_hours"}
    assert report[bad["code"]]["row"] == rows.index(bad) + 2  # as the spreadsheet numbers it
    assert client.get("/api/v1/courses/HR-101").json()["title"] != good["title"]
    assert audit_count(db) == before

    bad["lecture_hours"] = 20  # now only the unknown link target is wrong
    report = upload(client, "courses", write_xlsx(rows), "courses.xlsx", True).json()
    row = next(r for r in report["rows"] if r["code"] == bad["code"])
    assert row["outcome"] == "error" and "nowhere-1900" in row["errors"][0]["message"]


def test_formula_cells_are_neutralised_and_restored(client):
    course = create_course(
        client,
        title='=HYPERLINK("http://evil.example") tactics',
        description="+1 hour of drills",
        topics=["@SUM(A1:A9)", "-dash topic"],
    )
    csv_rows = {r["code"]: r for r in read_csv(export(client, "courses", "csv"))}
    assert csv_rows[course["code"]]["title"].startswith("'=HYPERLINK")
    assert csv_rows[course["code"]]["description"] == "'+1 hour of drills"
    content = export(client, "courses", "xlsx")
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)  # no formula anywhere
    assert any(c.value == "'@SUM(A1:A9)\n-dash topic" for c in cells)
    for fmt in ("csv", "xlsx"):
        report = upload(client, "courses", export(client, "courses", fmt), f"c.{fmt}", True)
        row = next(r for r in report.json()["rows"] if r["code"] == course["code"])
        assert row["outcome"] == "unchanged", row


def test_instrument_import_edits_and_protects_linked_provisions(client):
    rows = read_csv(export(client, "instruments", "csv"))
    iccpr = [r for r in rows if r["code"] == "iccpr-1966"]
    iccpr[0]["provision_heading"] = "Respect and ensure rights (edited)"
    extra = dict(iccpr[-1])
    extra.update(provision_key="art-99", provision_number="Art. 99", provision_heading="New")
    rows.insert(rows.index(iccpr[-1]) + 1, extra)
    report = upload(client, "instruments", write_csv(rows), "i.csv", True).json()
    outcome = {r["code"]: r["outcome"] for r in report["rows"]}
    assert outcome[f"iccpr-1966/{iccpr[0]['provision_key']}"] == "updated"
    assert outcome["iccpr-1966/art-99"] == "created"
    assert report["counts"]["unchanged"] == len(rows) - 2
    assert upload(client, "instruments", write_csv(rows), "i.csv", False).status_code == 200
    detail = client.get("/api/v1/instruments/iccpr-1966").json()
    assert detail["provisions"][0]["heading"] == "Respect and ensure rights (edited)"
    assert detail["provisions"][-1]["number"] == "Art. 99"

    # Dropping the row of a provision that courses link to is refused.
    linked = f"iccpr-1966/{iccpr[0]['provision_key']}"
    rows = [r for r in rows if f"{r['code']}/{r['provision_key']}" != linked]
    response = upload(client, "instruments", write_csv(rows), "i.csv", False)
    assert response.status_code == 422
    errors = [e for r in response.json()["report"]["rows"] for e in r["errors"]]
    assert any(linked in e["message"] and "HR-101" in e["message"] for e in errors)
    assert len(client.get("/api/v1/instruments/iccpr-1966").json()["provisions"]) == len(iccpr) + 1


def test_instrument_rows_must_agree(client):
    rows = read_csv(export(client, "instruments", "csv"))
    iccpr = [r for r in rows if r["code"] == "iccpr-1966"]
    iccpr[1]["title"] = "Another title"
    report = upload(client, "instruments", write_csv(rows), "i.csv", True).json()
    row = next(r for r in report["rows"] if r["row"] == rows.index(iccpr[1]) + 2)
    assert row["outcome"] == "error" and row["errors"][0]["field"] == "title"


def test_unreadable_files_and_unknown_columns(client):
    response = upload(client, "courses", b"code,colour\nHR-101,red\n", "c.csv", True)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file.colour"
    assert upload(client, "courses", b"PK\x03\x04broken", "c.xlsx", True).status_code == 422
    assert upload(client, "courses", "é".encode("latin-1"), "c.csv", True).status_code == 422
    # A partial sheet (only some columns, here saved with ";") updates those and keeps the rest.
    partial = upload(client, "courses", b"code;credits\r\nHR-101;4\r\n", "c.csv", False)
    assert partial.json()["rows"][0]["outcome"] == "updated"
    course = client.get("/api/v1/courses/HR-101").json()
    assert course["credits"] == 4 and course["hours"]["lecture"] == 20


def test_imports_need_catalogue_write(anon, browser_as):
    files = {"file": ("c.csv", b"code\nHR-101\n", "text/csv")}
    assert anon.post("/api/v1/imports/courses", files=files).status_code == 401
    assert browser_as("viewer").post("/api/v1/imports/courses", files=files).status_code == 403
    assert anon.get("/api/v1/exports/courses").status_code == 200  # public catalogue
