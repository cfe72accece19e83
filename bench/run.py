"""`python -m bench.run [--backend sqlite|postgresql|both] [--scales 1,10] [--repeat N]
[--seconds S]`: on a scratch database per backend and scale, filled by `bench.generate`, time
the main operations in-process (FastAPI TestClient) beside a raw-SQL baseline on the same data,
then the course list's throughput over HTTP beside a bare Starlette handler (`bench.throughput`),
and print Markdown tables and the release targets."""

import argparse
import json
import logging
import os
import platform
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import version

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.db import get_session
from app.main import create_app, freeze_startup_objects
from app.models.accounts import ClientCreate, Scope
from app.services import accounts, plan_workflow, plans
from bench import scale, throughput
from bench.fixtures import BenchDB, cpu_model, describe, postgres_version, ram, scratch_database
from bench.timing import Stats, measure

try:
    import orjson

    def dumps(rows: list) -> bytes:
        return orjson.dumps(rows)
except ImportError:  # pragma: no cover - orjson is optional

    def dumps(rows: list) -> bytes:
        return json.dumps(rows, default=str).encode()


HEAVY_SHARE = 0.15  # heavy operations run 15% of --repeat (30 of the default 200)

# ---- raw-SQL baselines: the rows each response is built from, in a few plain statements --------

COURSE_COLS = (
    "code, title, domain, level, status, restricted, lecture_hours, seminar_hours, practical_hours, "
    "self_study_hours, credits, language_of_instruction, target_language, cefr_level, version"
)
SEARCH_IDS = {
    "sqlite": 'SELECT rowid / 4 FROM search_fts WHERE search_fts MATCH \'"human"* "rights"*\' AND rowid % 4 = 1',
    "postgresql": "SELECT entity_id FROM search_document WHERE entity = 'course' "
    "AND document @@ to_tsquery('simple', 'human:* & rights:*')",
}
LINKS = (
    "SELECT c.code, c.title, c.status, i.code, p.code, l.kind, l.depth, l.hours FROM course_link l "
    "JOIN course c ON c.id = l.course_id JOIN instrument i ON i.id = l.instrument_id "
    "LEFT JOIN provision p ON p.id = l.provision_id"
)
COVERING = "l.kind IN ('teaches', 'assesses')"


def baselines(backend: str, plan_id: int) -> dict[str, list[str]]:
    """Per operation, the statements whose rows make up its response (see BASELINE_NOTES)."""
    return {
        "list": [f"SELECT {COURSE_COLS}, count(*) OVER () FROM course ORDER BY code LIMIT 50"],
        "search": [
            f"SELECT {COURSE_COLS}, count(*) OVER () FROM course WHERE id IN ({SEARCH_IDS[backend]}) "
            "ORDER BY code LIMIT 50"
        ],
        "course": [
            "SELECT * FROM course WHERE code = 'HR-101'",
            f"{LINKS} WHERE c.code = 'HR-101' ORDER BY i.code, p.position, l.kind",
        ],
        "instrument": [
            "SELECT i.*, p.code, p.number, p.heading, p.summary FROM instrument i "
            "JOIN provision p ON p.instrument_id = i.id WHERE i.code = 'ccleo-1979' ORDER BY p.position",
            f"{LINKS} WHERE i.code = 'ccleo-1979' ORDER BY c.code, l.kind",
        ],
        "coverage": [
            "SELECT code, title, domain, status FROM course ORDER BY code",
            "SELECT code, short_title FROM instrument ORDER BY adopted_on, code",
            "SELECT c.code, i.code, l.kind, l.depth, l.hours, l.provision_id FROM course_link l "
            "JOIN course c ON c.id = l.course_id JOIN instrument i ON i.id = l.instrument_id "
            "ORDER BY c.code, i.code",
        ],
        "gaps": [
            "SELECT i.code, i.title FROM instrument i WHERE NOT EXISTS (SELECT 1 FROM course_link l "
            f"JOIN course c ON c.id = l.course_id WHERE l.instrument_id = i.id AND {COVERING} "
            "AND c.status = 'approved') ORDER BY i.code",
            "SELECT i.code, p.code, p.number, p.heading FROM provision p "
            "JOIN instrument i ON i.id = p.instrument_id WHERE NOT EXISTS (SELECT 1 FROM course_link l "
            "JOIN course c ON c.id = l.course_id WHERE l.provision_id = p.id AND l.kind = 'assesses' "
            "AND c.status = 'approved') ORDER BY i.code, p.position",
        ],
        "plan": [
            f"SELECT * FROM plan WHERE id = {plan_id}",
            "SELECT pi.id, pi.term, pi.mandatory, g.key, pi.hours_override, pi.override_reason, c.code, c.title, "
            "c.status, c.lecture_hours + c.seminar_hours + c.practical_hours, c.self_study_hours, "
            "c.target_language, c.cefr_level FROM plan_item pi JOIN course c ON c.id = pi.course_id "
            f"LEFT JOIN elective_group g ON g.id = pi.elective_group_id WHERE pi.plan_id = {plan_id} "
            "ORDER BY pi.term, c.code, pi.id",
        ],
    }


BASELINE_NOTES = [
    "course list / search: one SELECT of the page's columns with `count(*) OVER ()` for the total "
    "(search: ids from the FTS5 table / tsvector index, as the app does)",
    "course detail: the course row, and its links joined to instrument and provision "
    "(not outcomes or prerequisites)",
    "instrument page: the instrument joined to its provisions, and every link to it joined to course and provision",
    "coverage matrix: courses, instruments, and the raw link rows (unfolded: one row per link, not per cell)",
    "gap report: uncovered instruments and unassessed provisions, each one NOT EXISTS query",
    "plan detail: the plan row, and its items joined to course and elective group (no totals or transitions)",
    "plan validation and home page: '—' (rules in Python; HTML rendering of the gap report)",
]


def raw_query(conn, statements: list[str]) -> Callable[[], bytes]:
    def run() -> bytes:
        rows: list = []
        for sql in statements:
            rows.extend(conn.execute(sql).fetchall())
        return dumps(rows)

    return run


# ---- the operations ----------------------------------------------------------------------------


@dataclass
class Op:
    name: str
    call: Callable[[], object]
    baseline: str | None = None  # key into baselines()
    target_ms: float | None = None
    heavy: bool = False
    repeat: int | None = None  # fixed number of timed calls, for the slowest operations


@dataclass
class Row:
    op: Op
    stats: Stats
    base: Stats | None


def get(client: TestClient, url: str) -> Callable[[], object]:
    def call():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code} {response.text[:300]}")
        return response

    return call


def operations(client: TestClient, session: Session, plan_id: int, people: int) -> list[Op]:
    plan = plans.get(session, plan_id)
    batch = min(10_000, people)  # one record per person
    book40 = scale.forty_course_plan(session, plan_id)
    pages = [
        ("catalogue page", "/courses"),
        ("course page", "/courses/HR-101"),
        ("instruments page", "/instruments"),
        ("instrument page (HTML)", "/instruments/ccleo-1979"),
        ("coverage page (first 100 courses)", "/coverage"),
        ("plans page", "/plans"),
        ("plan builder page (60 items)", f"/plans/{plan_id}"),
        ("people page", "/people"),
    ]
    return [
        *(Op(name, get(client, url), None, 100, heavy=True) for name, url in pages),
        Op(
            "SCIM filter (familyName sw, active)",
            get(
                client,
                '/scim/v2/Users?filter=name.familyName sw "Kar" and active eq true&count=100',
            ),
            None,
        ),
        Op(
            "SCIM filter by employeeNumber",
            get(
                client,
                "/scim/v2/Users?filter=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
                ':employeeNumber eq "E012345"',
            ),
            None,
        ),
        Op(
            f"{batch:,}-record batch import",
            scale.RecordBatches(client, size=batch),
            None,
            repeat=3,
        ),
        Op(
            "plan syllabus book PDF (40 items)",
            get(client, f"/api/v1/plans/{book40}/syllabus?format=pdf"),
            None,
            15000,
            repeat=3,
        ),
        Op("course list (limit=50)", get(client, "/api/v1/courses?limit=50"), "list"),
        Op(
            "course search (q=human rights)",
            get(client, "/api/v1/courses?q=human%20rights"),
            "search",
        ),
        Op("course detail (HR-101)", get(client, "/api/v1/courses/HR-101"), "course"),
        Op(
            "instrument page (ccleo-1979)",
            get(client, "/api/v1/instruments/ccleo-1979"),
            "instrument",
        ),
        Op("coverage matrix (full)", get(client, "/api/v1/coverage"), "coverage", 300, heavy=True),
        Op("gap report", get(client, "/api/v1/coverage/gaps"), "gaps", heavy=True),
        Op(
            "plan validation, HTTP (60 items)",
            get(client, f"/api/v1/plans/{plan_id}/validation"),
            None,
            20,
        ),
        Op(
            "plan validation, service call", lambda: plan_workflow.validate(session, plan), None, 20
        ),
        Op("plan detail (60 items)", get(client, f"/api/v1/plans/{plan_id}"), "plan", 100),
        Op("home page (HTML)", get(client, "/"), None, 100, heavy=True),
        Op(
            "syllabus PDF (HR-101)",
            get(client, "/api/v1/courses/HR-101/syllabus?format=pdf"),
            None,
            1000,
            heavy=True,
        ),
        Op(
            "plan syllabus book PDF (60 items)",
            get(client, f"/api/v1/plans/{plan_id}/syllabus?format=pdf"),
            None,
            15000,
            repeat=3,
        ),
    ]


def session_factory(db: BenchDB) -> Callable[[], Iterator[Session]]:
    def _session() -> Iterator[Session]:
        with Session(db.engine, expire_on_commit=False) as session:
            yield session

    return _session


def bench_backend(db: BenchDB, repeat: int) -> tuple[list[Row], Stats]:
    """Every operation's timings, and the in-process floor (GET /healthz: no database, tiny JSON)."""
    app = create_app(first_run=False)
    app.dependency_overrides[get_session] = session_factory(db)
    freeze_startup_objects()  # as the served application does at start-up
    for name in ("httpx", "httpx2"):  # keep per-request client logging out of the output
        logging.getLogger(name).setLevel(logging.WARNING)
    with Session(db.engine) as session:  # a machine client, as an HR system would use
        _, token = accounts.create_client(
            session,
            ClientCreate(
                name="bench-hr",
                scopes=[
                    Scope.catalog_read,
                    Scope.plans_read,
                    Scope.personnel_read,
                    Scope.records_write,
                ],
            ),
            actor="bench",
        )
    sql = baselines(db.backend, db.plan_id)
    heavy_repeat = max(5, round(repeat * HEAVY_SHARE))
    rows = []
    with (
        TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client,
        Session(db.engine, expire_on_commit=False) as session,
    ):
        floor = measure(get(client, "/healthz"), repeat)
        for op in operations(client, session, db.plan_id, db.counts["person"]):
            n = op.repeat or (heavy_repeat if op.heavy else repeat)
            stats = measure(op.call, n)
            base = measure(raw_query(db.raw, sql[op.baseline]), n) if op.baseline else None
            rows.append(Row(op, stats, base))
            print(f"  {op.name}: median {stats.median:.2f} ms (n={n})", file=sys.stderr, flush=True)
    return rows, floor


# ---- output ------------------------------------------------------------------------------------


def machine_header(pg: str | None) -> str:
    libs = ", ".join(
        f"{p} {version(p)}" for p in ("fastapi", "starlette", "sqlalchemy", "sqlmodel", "psycopg")
    )
    return "\n".join(
        [
            "# Planner benchmarks",
            "",
            f"- CPU: {cpu_model()}, {os.cpu_count()} logical core(s); RAM: {ram()}",
            f"- OS: {platform.platform()}",
            f"- Python {platform.python_version()} ({platform.python_implementation()}); {libs}",
            f"- SQLite {sqlite3.sqlite_version}; PostgreSQL server {pg or 'not reachable'}",
            "- Data: `bench.generate` at each scale (scale 1: 2,000 courses, 300 instruments, 3,000 "
            "provisions, 20,000 links, 100 plans, 10,000 people, 100,000 training records).",
            "- In-process: FastAPI TestClient, one client, sequential calls; 3 warm-up calls then N timed calls each.",
            "- Over HTTP: `planner serve` and a bare Starlette handler (raw sqlite3/psycopg + orjson), "
            "one uvicorn worker each, driven by wrk on loopback (see bench/throughput.py).",
            "- Baseline: raw SQL on a DB-API connection (sqlite3 / psycopg, no ORM, no HTTP) fetching the rows the "
            f"response is built from, serialised with {'orjson' if 'orjson' in sys.modules else 'json'}; "
            "'—' where no plain query gives the result (details at the end).",
            "- met? compares p95 with the target: yes, 'median only' (median under, p95 over), or no.",
        ]
    )


def _met(row: Row) -> str:
    target = row.op.target_ms
    if target is None:
        return "—"
    if row.stats.p95 < target:
        return "yes"
    return "median only" if row.stats.median < target else "**no**"


def table(db: BenchDB, rows: list[Row], floor: Stats) -> str:
    title = "SQLite" if db.backend == "sqlite" else "PostgreSQL"
    lines = [
        f"## {title} {db.server_version}, scale {db.scale:g}",
        "",
        f"Data: {describe(db)}.",
        "",
        "| operation | median ms | p95 ms | baseline median ms | target | met? |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        base = f"{r.base.median:.2f}" if r.base else "—"
        target = f"< {r.op.target_ms:g} ms" if r.op.target_ms else "—"
        lines.append(
            f"| {r.op.name} (n={r.stats.n}) | {r.stats.median:.2f} | {r.stats.p95:.2f} | {base} | "
            f"{target} | {_met(r)} |"
        )
    lines += [
        "",
        f"In-process floor, GET /healthz (no database): median {floor.median:.2f} ms, "
        f"p95 {floor.p95:.2f} ms.",
    ]
    return "\n".join(lines)


@dataclass
class Verdict:
    """One release target, for the summary at the end."""

    where: str
    target: str
    measured: str
    met: bool


def verdicts(db: BenchDB, rows: list[Row], http: list[throughput.Result] | None) -> list[Verdict]:
    where = f"{'SQLite' if db.backend == 'sqlite' else 'PostgreSQL'}, scale {db.scale:g}"
    out = []
    for r in rows:
        name = r.op.name
        if name.startswith("coverage matrix") and db.scale == 1:
            out.append(
                Verdict(
                    where,
                    "full coverage matrix < 300 ms (p95)",
                    f"{r.stats.p95:.0f} ms",
                    r.stats.p95 < 300,
                )  # fmt: skip
            )
        if name.startswith("plan validation, HTTP"):
            out.append(
                Verdict(
                    where,
                    "plan validation (60 items) < 20 ms (p95)",
                    f"{r.stats.p95:.1f} ms",
                    r.stats.p95 < 20,
                )  # fmt: skip
            )
    if http:
        planner = next(x for x in http if x.name == "planner courses")
        base = next(x for x in http if x.name == "baseline courses")
        out.append(
            Verdict(
                where,
                "course list req/s >= raw sqlite3/psycopg + orjson Starlette handler",
                f"{planner.requests_per_second:,.0f} vs {base.requests_per_second:,.0f} req/s "
                f"({planner.requests_per_second / base.requests_per_second:.0%})",
                planner.requests_per_second >= base.requests_per_second and not planner.errors,
            )
        )
    return out


def summary(all_verdicts: list[Verdict]) -> str:
    lines = ["## Release targets", "", "| where | target | measured | met? |", "|---|---|---|---|"]
    for v in all_verdicts:
        lines.append(f"| {v.where} | {v.target} | {v.measured} | {'yes' if v.met else '**no**'} |")
    lines.append(
        "\nNo endpoint's query count grows with its rows: guarded by the query-count tests in "
        "`make test` (tests/api/test_query_counts.py and others), not measured here."
    )
    return "\n".join(lines)


def _scales(text: str) -> list[float]:
    try:
        out = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of numbers, e.g. 1,10") from None
    if not out or any(x <= 0 for x in out):
        raise argparse.ArgumentTypeError("scales must be positive numbers, e.g. 1,10")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="database(s) to benchmark (default: both; PostgreSQL is skipped if unreachable)",
    )
    parser.add_argument(
        "--scales", type=_scales, default=[1.0, 10.0], metavar="N[,N...]",
        help="bench.generate scales to run (default: 1,10)",
    )  # fmt: skip
    parser.add_argument(
        "--repeat",
        type=int,
        default=200,
        metavar="N",
        help=f"timed calls per operation, default 200 (heavy ones: {HEAVY_SHARE * 100:.0f}%% of N, "
        "at least 5)",
    )
    parser.add_argument(
        "--seconds", type=float, default=10, metavar="S",
        help="wrk run per throughput measurement (default 10; 0 skips the HTTP throughput)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    wrk = shutil.which("wrk")
    if args.seconds and wrk is None:
        print("Note: wrk is not installed (make wrk); skipping the HTTP throughput.\n")

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    pg = postgres_version() if "postgresql" in backends else None
    if "postgresql" in backends and pg is None:
        msg = "PostgreSQL at 127.0.0.1:5432 is not reachable"
        if args.backend == "postgresql":
            print(f"{msg}; nothing to run.", file=sys.stderr)
            return 1
        print(f"Note: {msg}; skipping the PostgreSQL benchmarks.\n")
        backends.remove("postgresql")

    print(machine_header(pg), flush=True)
    found: list[Verdict] = []
    for backend in backends:
        for n in args.scales:
            print(
                f"[{backend} x{n:g}] generating the scratch database...",
                file=sys.stderr,
                flush=True,
            )
            with scratch_database(backend, n, pg) as db:
                rows, floor = bench_backend(db, args.repeat)
                print("\n" + table(db, rows, floor), flush=True)
                http = None
                if args.seconds and wrk:
                    print(
                        f"[{backend} x{n:g}] course list over HTTP...", file=sys.stderr, flush=True
                    )
                    http = throughput.compare(db.url, seconds=args.seconds)
                    print("\nCourse list over HTTP (wrk, one worker each, same database):\n")
                    print(throughput.markdown(http), flush=True)
                found += verdicts(db, rows, http)
    print("\nBaselines:\n" + "\n".join(f"- {note}" for note in BASELINE_NOTES))
    print("\n" + summary(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
