"""The course list's fast path: one statement per page, the same JSON as CoursePage, and a
bearer token's last use noted without failing concurrent requests."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.cli import migrate
from app.config import get_settings
from app.db import get_engine, get_write_engine
from app.main import create_app
from app.models.accounts import ApiClient, ClientCreate, Scope
from app.models.common import utcnow
from app.models.courses import CoursePage, CourseSummary, HoursRead
from app.services import accounts, courses

QUERIES = [
    {"limit": 50},
    {"limit": 5, "offset": 5},
    {"limit": 500},
    {"domain": "foreign_languages", "limit": 500},
    {"level": "command", "status": "approved"},
    {"instrument": "ccleo-1979", "limit": 500},
    {"q": "human rights"},
    {"q": "juveniles counterfeit"},
    {"domain": "tactics", "offset": 1000},
]


def _orm_page(db, params: dict, *, public_only: bool) -> str:
    """The answer as the API built it before the fast path: entities -> CoursePage."""
    limit, offset = params.get("limit", 50), params.get("offset", 0)
    filters = {k: v for k, v in params.items() if k not in ("limit", "offset")}
    rows, total = courses.list_courses(
        db, **filters, limit=limit, offset=offset, public_only=public_only
    )
    page = CoursePage(
        items=[courses.summary(c) for c in rows], total=total, limit=limit, offset=offset
    )
    return page.model_dump_json()


@pytest.mark.parametrize(
    "params", QUERIES, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items())
)
def test_list_answers_coursepage_json_byte_for_byte(client, anon, db, params):
    for who, public_only in ((client, False), (anon, True)):
        response = who.get("/api/v1/courses", params=params)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.content.decode() == _orm_page(db, params, public_only=public_only)


def test_anonymous_list_holds_only_public_courses(client, anon):
    everything = client.get("/api/v1/courses", params={"limit": 500}).json()
    public = anon.get("/api/v1/courses", params={"limit": 500}).json()
    assert public["total"] < everything["total"]
    assert public["total"] == len(public["items"])
    assert all(c["status"] == "approved" and not c["restricted"] for c in public["items"])


def test_summary_rows_have_coursesummary_fields_in_order(db):
    items, total = courses.summary_page(db, limit=3)
    assert len(items) == 3 and total >= 3
    for item in items:
        assert list(item) == list(CourseSummary.model_fields)
        assert list(item["hours"]) == list(HoursRead.model_fields)
        assert CourseSummary.model_validate(item).model_dump(mode="json") == item


def test_a_page_past_the_end_still_counts_the_matches(client):
    total = client.get("/api/v1/courses", params={"domain": "tactics"}).json()["total"]
    past = client.get("/api/v1/courses", params={"domain": "tactics", "offset": 10_000}).json()
    assert past == {"items": [], "total": total, "limit": 50, "offset": 10_000}
    none = client.get("/api/v1/courses", params={"q": "juveniles counterfeit"}).json()
    assert none == {"items": [], "total": 0, "limit": 50, "offset": 0}


@pytest.mark.parametrize("filters", [{}, {"domain": "human_rights"}, {"q": "rights"}])
def test_list_reads_page_and_total_in_one_statement(client, count_queries, filters):
    counts = []
    for limit in (5, 50):
        with count_queries() as counter:
            assert client.get("/api/v1/courses", params={**filters, "limit": limit}).status_code
        counts.append(counter.count)
    # The bearer token's lookup, then the page with its total.
    assert counts == [2, 2], counter.statements


def test_last_use_is_written_at_most_once_a_minute(anon, db, count_queries):
    client, token = accounts.create_client(
        db, ClientCreate(name="last-use", scopes=[Scope.catalog_read]), actor="tests"
    )
    auth = {"Authorization": f"Bearer {token}"}
    with count_queries() as first:
        assert anon.get("/api/v1/courses", headers=auth).status_code == 200
    noted = db.get(ApiClient, client.id).last_used_at
    assert noted is not None
    with count_queries() as second:
        assert anon.get("/api/v1/courses", headers=auth).status_code == 200
    assert [s for s in first.statements if s.lstrip().upper().startswith("UPDATE")]
    assert not [s for s in second.statements if s.lstrip().upper().startswith("UPDATE")]
    assert db.get(ApiClient, client.id).last_used_at == noted
    # A minute later the next use is noted again.
    db.get(ApiClient, client.id).last_used_at = utcnow() - timedelta(minutes=2)
    db.commit()
    assert anon.get("/api/v1/courses", headers=auth).status_code == 200
    assert utcnow() - db.get(ApiClient, client.id).last_used_at < timedelta(minutes=1)


@pytest.fixture
def live_token(fresh_url, monkeypatch):
    """A token on a fresh database served through the real session handling."""
    monkeypatch.setenv("PLANNER_DATABASE_URL", fresh_url)
    for cached in (get_settings, get_engine, get_write_engine):
        cached.cache_clear()
    migrate("head", database_url=fresh_url)
    with Session(get_engine()) as session:
        _, token = accounts.create_client(
            session, ClientCreate(name="reader", scopes=[Scope.catalog_read]), actor="tests"
        )
    yield token
    get_engine().dispose()
    for cached in (get_settings, get_engine, get_write_engine):
        cached.cache_clear()


def test_concurrent_first_uses_of_a_token_all_succeed(live_token):
    # Each request notes the first use; on SQLite, upgrading the request's read transaction to
    # write that note used to fail at once ("database is locked", a 503) for all but one.
    app = create_app(first_run=False)
    auth = {"Authorization": f"Bearer {live_token}"}
    start = threading.Barrier(8)

    def read(_: int) -> int:
        with TestClient(app, raise_server_exceptions=False) as c:
            start.wait()
            return c.get("/api/v1/courses", headers=auth).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(read, range(8))) == [200] * 8
    with Session(get_engine()) as session:
        assert session.get(ApiClient, 1).last_used_at is not None
