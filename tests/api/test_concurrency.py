"""Concurrent editors of one plan, through the real session handling and separate connections."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.cli import migrate
from app.config import get_settings
from app.db import get_engine, get_write_engine
from app.main import create_app
from app.models.accounts import ClientCreate, Scope
from app.services import accounts


@pytest.fixture
def live_client(fresh_url, monkeypatch):
    monkeypatch.setenv("PLANNER_DATABASE_URL", fresh_url)
    for cached in (get_settings, get_engine, get_write_engine):
        cached.cache_clear()
    migrate("head", database_url=fresh_url)
    with Session(get_engine()) as session:
        _, token = accounts.create_client(
            session, ClientCreate(name="editor", scopes=list(Scope)), actor="tests"
        )
    with TestClient(
        create_app(first_run=False),
        raise_server_exceptions=False,
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client
    get_engine().dispose()
    for cached in (get_settings, get_engine, get_write_engine):
        cached.cache_clear()


def test_eight_writers_with_one_etag_exactly_one_wins(live_client):
    for n in range(8):
        body = {
            "code": f"CC-{n:03d}",
            "title": f"Concurrency course {n}",
            "domain": "tactics",
            "level": "initial",
            "status": "approved",
            "hours": {"lecture": 10},
        }
        assert live_client.post("/api/v1/courses", json=body).status_code == 201
    created = live_client.post(
        "/api/v1/plans",
        json={
            "name": "Concurrent plan",
            "audience": "initial",
            "academic_year": "2027/2028",
            "terms": 2,
            "term_hour_budget": 400,
        },
    )
    plan_id, etag = created.json()["id"], created.headers["etag"]

    def add(n: int) -> int:
        return live_client.post(
            f"/api/v1/plans/{plan_id}/items",
            headers={"If-Match": etag},
            json={"course_code": f"CC-{n:03d}", "term": 1},
        ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(add, range(8)))
    assert statuses == [201] + [412] * 7
    plan = live_client.get(f"/api/v1/plans/{plan_id}").json()
    assert sum(len(t["items"]) for t in plan["term_plan"]) == 1
    assert plan["revision"] == 2
