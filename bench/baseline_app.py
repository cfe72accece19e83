"""The throughput baseline: a bare Starlette app answering the planner's course list by hand.

`GET /api/v1/courses` returns the first page (limit 50, offset 0) of courses in code order, in
the planner's CoursePage shape, read with the raw DB-API driver and serialised with orjson: no
FastAPI, no middleware, no ORM, no authentication, no validation. It is what the planner's
`GET /api/v1/courses?limit=50` costs once everything but the query and the JSON is taken away.

Serve it with `BASELINE_DATABASE_URL=<url> uvicorn bench.baseline_app:app`; the URL is the
planner's (`sqlite:///path` or `postgresql+psycopg://user@host/db`). The benchmark's bearer token
holds `catalog:read`, which sees every course; `BASELINE_PUBLIC_ONLY=1` answers instead what
anonymous readers of a public catalogue see (approved and not restricted).

Like the planner's `def` handlers, the handler is synchronous and runs in Starlette's thread
pool; each thread keeps one connection of its own.
"""

import os
import sqlite3
import threading

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

COLUMNS = (
    "code, title, domain, level, status, restricted, lecture_hours, seminar_hours, "
    "practical_hours, self_study_hours, credits, language_of_instruction, target_language, "
    "cefr_level, version"
)
PUBLIC = " WHERE status = 'approved' AND NOT restricted"
LIMIT = 50


def _query(public_only: bool) -> str:
    where = PUBLIC if public_only else ""
    # The total as an uncorrelated scalar subquery, computed once beside a page read in code
    # order through the index: the cheapest single statement found on both backends (a
    # `count(*) OVER ()` window sorts every matching row first, 5-30x slower at 2,000 courses).
    total = f"(SELECT count(*) FROM course{where})"
    return f"SELECT {COLUMNS}, {total} FROM course{where} ORDER BY code LIMIT {LIMIT}"


def _connector(url: str):
    """A function opening one DB-API connection to the database named by a SQLAlchemy URL."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    backend = scheme.split("+", 1)[0]
    if backend == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest  # sqlite:///rel or sqlite:////abs
        if not path or path == ":memory:":
            raise ValueError("the baseline needs a SQLite file, not an in-memory database")

        def connect_sqlite():
            conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA query_only = ON")  # a benchmark must never change shared data
            return conn

        return connect_sqlite
    if backend in ("postgresql", "postgres"):
        import psycopg

        conninfo = f"postgresql://{rest}"

        def connect_postgres():
            return psycopg.connect(conninfo, autocommit=True)

        return connect_postgres
    raise ValueError(f"unsupported database URL: {url!r}")


def page(rows: list[tuple]) -> bytes:
    """The CoursePage document for rows of COLUMNS + total, as the planner shapes it."""
    items = [
        {
            "code": code,
            "title": title,
            "domain": domain,
            "level": level,
            "status": status,
            "restricted": bool(restricted),
            "hours": {
                "lecture": lecture,
                "seminar": seminar,
                "practical": practical,
                "self_study": self_study,
                "contact": lecture + seminar + practical,
                "total": lecture + seminar + practical + self_study,
            },
            "credits": float(credits),
            "language_of_instruction": language,
            "target_language": target_language,
            "cefr_level": cefr_level,
            "version": version,
        }
        for (
            code,
            title,
            domain,
            level,
            status,
            restricted,
            lecture,
            seminar,
            practical,
            self_study,
            credits,
            language,
            target_language,
            cefr_level,
            version,
            _total,
        ) in rows
    ]
    total = rows[0][-1] if rows else 0
    return orjson.dumps({"items": items, "total": total, "limit": LIMIT, "offset": 0})


def create_app(database_url: str, *, public_only: bool = False) -> Starlette:
    """The baseline app over one database; each worker thread opens its own connection."""
    connect = _connector(database_url)
    sql = _query(public_only)
    local = threading.local()

    def list_courses(request: Request) -> Response:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = connect()
        rows = conn.execute(sql).fetchall()
        return Response(page(rows), media_type="application/json")

    return Starlette(routes=[Route("/api/v1/courses", list_courses)])


def __getattr__(name: str):
    # `uvicorn bench.baseline_app:app` builds the app from the environment on first access;
    # importing the module (e.g. from the benchmark) reads nothing.
    if name == "app":
        url = os.environ.get("BASELINE_DATABASE_URL")
        if not url:
            raise RuntimeError("set BASELINE_DATABASE_URL to the database to serve")
        public_only = os.environ.get("BASELINE_PUBLIC_ONLY", "") not in ("", "0")
        app = globals()["app"] = create_app(url, public_only=public_only)
        return app
    raise AttributeError(name)
