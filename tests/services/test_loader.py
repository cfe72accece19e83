"""Loading curricula: validated first, all-or-nothing, idempotent upserts by natural key."""

import textwrap

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from app.cli import migrate
from app.config import ROOT
from app.db import build_engine
from app.models.audit import AuditEvent
from app.models.courses import Course
from app.models.instruments import Instrument
from app.services import loader

INSTRUMENT = """
instruments:
  - code: test-convention-2020
    title: Test Convention on Police Cooperation
    short_title: Test Convention
    kind: convention
    body: UN General Assembly
    adopted_on: 2020-01-10
    entry_into_force_on: 2021-02-01
    themes: [international_cooperation]
    provisions:
      - {number: Art. 1, heading: Purpose}
      - {number: Art. 2(1), heading: Scope}
"""

COURSE = """
courses:
  - code: TT-100
    title: Cooperation basics
    domain: transnational_crime
    level: initial
    status: approved
    hours: {lecture: 10, seminar: 2, practical: 0, self_study: 4}
    outcomes: [{text: Describe the cooperation channels., bloom: understand}]
    links:
      - {target: test-convention-2020/art-2-1, kind: assesses, depth: introduced, hours: 2}
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def counts(session):
    return (
        session.exec(select(func.count()).select_from(Instrument)).one(),
        session.exec(select(func.count()).select_from(Course)).one(),
        session.exec(select(func.count()).select_from(AuditEvent)).one(),
    )


@pytest.fixture
def empty(fresh_url):
    migrate("head", database_url=fresh_url)
    engine = build_engine(fresh_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_reloading_the_shipped_curricula_changes_nothing(db):
    before = counts(db)
    report = loader.load(db, ROOT / "curricula")
    assert set(report.counts["instruments"]) == {"unchanged"}
    assert set(report.counts["courses"]) == {"unchanged"}
    assert counts(db) == before


def test_load_creates_then_updates_by_code(empty, tmp_path):
    write(tmp_path, "i.yaml", INSTRUMENT)
    write(tmp_path, "c.yaml", COURSE)
    report = loader.load(empty, tmp_path)
    assert report.counts["instruments"]["created"] == 1 and report.counts["courses"]["created"] == 1
    write(tmp_path, "c.yaml", COURSE.replace("Cooperation basics", "Cooperation essentials"))
    report = loader.load(empty, tmp_path)
    assert (
        report.counts["courses"]["updated"] == 1 and report.counts["instruments"]["unchanged"] == 1
    )
    course = empty.exec(select(Course).where(Course.code == "TT-100")).one()
    assert course.title == "Cooperation essentials" and course.version == 2


def test_one_bad_entry_writes_nothing_and_names_file_entry_and_field(empty, tmp_path):
    write(tmp_path, "i.yaml", INSTRUMENT)
    bad = COURSE + textwrap.indent(
        textwrap.dedent("""
        - code: TT-101
          title: Broken course
          domain: transnational_crime
          level: initial
          hours: {lecture: ten}
    """),
        "  ",
    )
    write(tmp_path, "c.yaml", bad)
    with pytest.raises(loader.LoadError) as err:
        loader.load(empty, tmp_path)
    assert any(
        "c.yaml" in p and "courses[1] (TT-101)" in p and "hours.lecture" in p
        for p in err.value.problems
    )
    assert counts(empty) == (0, 0, 0)


def test_unknown_references_are_all_reported(empty, tmp_path):
    write(tmp_path, "i.yaml", INSTRUMENT.replace("themes:", "amends: nowhere-1900\n    themes:"))
    write(
        tmp_path,
        "c.yaml",
        COURSE.replace("art-2-1", "art-9").replace("status: approved", "prerequisites: [TT-999]"),
    )
    with pytest.raises(loader.LoadError) as err:
        loader.load(empty, tmp_path)
    text = "\n".join(err.value.problems)
    assert "unknown instrument 'nowhere-1900'" in text
    assert "unknown provision 'test-convention-2020/art-9'" in text
    assert "unknown course 'TT-999'" in text
    assert counts(empty) == (0, 0, 0)


def test_prerequisite_cycles_and_invalid_yaml_are_refused(empty, tmp_path):
    write(tmp_path, "i.yaml", INSTRUMENT)
    cyclic = COURSE.replace("status: approved", "prerequisites: [TT-102]") + textwrap.indent(
        textwrap.dedent("""
        - code: TT-102
          title: Second course
          domain: transnational_crime
          level: initial
          prerequisites: [TT-100]
    """),
        "  ",
    )
    write(tmp_path, "c.yaml", cyclic)
    with pytest.raises(loader.LoadError) as err:
        loader.load(empty, tmp_path)
    assert any("cycle" in p for p in err.value.problems)
    write(tmp_path, "c.yaml", "courses: [unclosed")
    with pytest.raises(loader.LoadError) as err:
        loader.load(empty, tmp_path)
    assert "not valid YAML" in err.value.problems[0]
    assert counts(empty) == (0, 0, 0)


def test_a_failure_while_writing_rolls_everything_back(empty, tmp_path, monkeypatch):
    write(tmp_path, "i.yaml", INSTRUMENT)
    write(tmp_path, "c.yaml", COURSE)

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(loader, "_upsert_courses", explode)
    with pytest.raises(RuntimeError):
        loader.load(empty, tmp_path)
    assert counts(empty) == (0, 0, 0)


PLAN = """
plans:
  - code: tt-plan
    name: Cooperation plan
    audience: in_service
    academic_year: "2027/2028"
    terms: 1
    term_hour_budget: 5
    status: approved
    items:
      - {course: TT-100, term: 1}
"""


def test_shipped_plans_reload_unchanged(db):
    report = loader.load(db, ROOT / "curricula" / "plans")
    assert report.counts["plans"] == {"unchanged": 3}


def test_an_approved_plan_that_fails_validation_is_not_loaded(empty, tmp_path):
    write(tmp_path, "i.yaml", INSTRUMENT)
    write(tmp_path, "c.yaml", COURSE)
    write(tmp_path, "p.yaml", PLAN)
    with pytest.raises(loader.LoadError) as err:
        loader.load(empty, tmp_path)
    assert any("tt-plan" in p and "budget" in p for p in err.value.problems)
    assert counts(empty) == (0, 0, 0)
    write(tmp_path, "p.yaml", PLAN.replace("term_hour_budget: 5", "term_hour_budget: 50"))
    report = loader.load(empty, tmp_path)
    assert report.counts["plans"] == {"created": 1}
