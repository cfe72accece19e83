"""The benchmark data generator: volumes linear in the scale, the same rows for the same seed,
and data the application serves and validates like any other."""

import re

from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlmodel import Session

from app.db import build_engine, get_session
from app.main import create_app
from app.models.accounts import ClientCreate, Scope
from app.models.common import Domain
from app.models.courses import COURSE_CODE
from app.models.files import INSTRUMENT_CODE
from app.models.plans import PLAN_CODE
from app.services import accounts
from bench.generate import Volumes, course_code, generate

SCALE = 0.05
# Columns stamped with the time of the load of the shipped curricula (not generated rows).
CLOCK = {"created_at", "updated_at", "at", "last_used_at"}


def _content(url: str) -> dict[str, list[tuple]]:
    """Every row of every table but the audit trail, without the load's wall-clock stamps."""
    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            out = {}
            for table in inspect(conn).get_table_names():
                if table in {"audit_event", "alembic_version"} or table.startswith("search_fts"):
                    continue
                cols = [
                    c["name"] for c in inspect(conn).get_columns(table) if c["name"] not in CLOCK
                ]
                names = ", ".join(f'"{c}"' for c in cols)
                out[table] = conn.execute(
                    text(f'SELECT {names} FROM "{table}" ORDER BY 1, 2')
                ).fetchall()
            return out
    finally:
        engine.dispose()


def test_course_codes_stay_in_the_catalogue_form_at_any_scale():
    codes = [course_code(Domain.human_rights, n) for n in range(1, 900 * 27 * 2)]
    assert len(set(codes)) == len(codes)
    assert all(re.match(COURSE_CODE, c) for c in codes)


def test_volumes_are_linear_in_the_scale():
    one, ten = Volumes.at(1), Volumes.at(10)
    assert one == Volumes(2_000, 300, 3_000, 20_000, 100, 10_000, 100_000)
    assert ten == Volumes(*(10 * n for n in vars(one).values()))


def test_generated_academy(backend, scratch):
    url = scratch.new(backend)
    counts = generate(url, SCALE, seed=7)
    want = Volumes.at(SCALE)
    assert counts["course"] == want.courses
    assert counts["course_link"] == want.links
    assert counts["plan"] == want.plans
    assert counts["person"] == want.people
    assert counts["training_record"] == want.records
    assert counts["enrollment"] == want.people

    # Every generated code is one the API accepts (the records and edits name them).
    codes = _content(url)
    courses = [row[1] for row in codes["course"]]
    instruments = [row[1] for row in codes["instrument"]]
    plan_codes = [row[1] for row in codes["plan"]]
    assert all(re.match(COURSE_CODE, c) for c in courses)
    assert all(re.match(INSTRUMENT_CODE, c) for c in instruments)
    assert all(re.match(PLAN_CODE, c) for c in plan_codes)

    again = scratch.new(backend)
    generate(again, SCALE, seed=7)
    assert _content(url) == _content(again)
    other = scratch.new(backend)
    generate(other, SCALE, seed=8)
    assert _content(other)["course"] != _content(url)["course"]

    engine = build_engine(url)
    try:
        app = create_app(first_run=False)

        def _session():
            with Session(engine, expire_on_commit=False) as session:
                yield session

        app.dependency_overrides[get_session] = _session
        with Session(engine) as session:
            _, token = accounts.create_client(
                session, ClientCreate(name="gen-check", scopes=list(Scope)), actor="test"
            )
        with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
            page = client.get("/api/v1/courses", params={"limit": 50}).json()
            assert page["total"] == want.courses and len(page["items"]) == 50
            found = client.get("/api/v1/courses", params={"q": "drug trafficking"}).json()
            assert found["total"] > 0
            plan = client.get("/api/v1/plans", params={"limit": 1, "q": "gen"}).json()["items"]
            plan_id = plan[0]["id"] if plan else 4
            assert client.get(f"/api/v1/plans/{plan_id}/validation").status_code == 200
            assert client.get("/api/v1/coverage").status_code == 200
            users = client.get(
                "/scim/v2/Users",
                params={
                    "filter": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
                    ':employeeNumber eq "E000001"'
                },
            ).json()
            assert users["totalResults"] == 1
            # Ids continue after the generated rows (the PostgreSQL sequences were moved on).
            made = client.post(
                "/api/v1/records",
                json={
                    "records": [
                        {
                            "person": "E000002",
                            "course": "HR-101",
                            "completed_on": "2026-11-01",
                            "result": "passed",
                            "hours": 2,
                        }
                    ]
                },
                headers={"Idempotency-Key": "gen-check-1"},
            )
            assert made.status_code in (200, 201), made.text
    finally:
        engine.dispose()
