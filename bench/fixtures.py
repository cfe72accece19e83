"""Scratch databases for the benchmarks: migrated and filled by `bench.generate` at a scale,
dropped (or deleted) afterwards."""

import platform
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, func, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, select

from app.db import build_engine
from app.models.plans import Plan, PlanItem
from app.services import plan_workflow
from bench.generate import generate

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class BenchDB:
    backend: str
    scale: float
    url: str
    engine: Engine
    plan_id: int  # the 60-item plan
    raw: object  # a DB-API connection (sqlite3 or psycopg) for the raw-SQL baselines
    server_version: str
    counts: dict[str, int]
    generate_s: float


def cpu_model() -> str:
    """The CPU model name, for the reports' machine line."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def ram() -> str:
    """Total memory, for the reports' machine line."""
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        return f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        return "?"


def postgres_version() -> str | None:
    """The server version, or None if the local PostgreSQL does not answer."""
    try:
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3
        ) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except psycopg.Error:
        return None


def largest_plan(engine: Engine) -> int:
    """The id of the plan with the most items (the generator makes its first plan 60 long)."""
    with Session(engine) as s:
        return s.exec(
            select(PlanItem.plan_id)
            .group_by(PlanItem.plan_id)
            .order_by(func.count().desc(), PlanItem.plan_id)
            .limit(1)
        ).one()


def describe(db: BenchDB) -> str:
    """One line on what the scratch database holds, and what validating the plan finds."""
    with Session(db.engine) as s:
        plan = s.get(Plan, db.plan_id)
        items = s.exec(select(func.count()).where(col(PlanItem.plan_id) == plan.id)).one()
        result = plan_workflow.validate(s, plan)
    c = db.counts
    return (
        f"scale {db.scale:g}: {c['course']:,} courses, {c['instrument']:,} instruments, "
        f"{c['provision']:,} provisions, {c['course_link']:,} course links, {c['plan']:,} plans "
        f"({c['plan_item']:,} items), {c['person']:,} people, {c['training_record']:,} training "
        f"records; generated in {db.generate_s:.1f} s. Validated plan: {plan.code} ({items} items, "
        f"{plan.terms} terms, {plan.status}): {result.errors} error(s), {result.warnings} warning(s)"
    )


def _fill(url: str, scale: float) -> tuple[Engine, dict[str, int], float]:
    start = time.perf_counter()
    counts = generate(url, scale)
    return build_engine(url), counts, time.perf_counter() - start


@contextmanager
def scratch_database(
    backend: str, scale: float, pg_version: str | None = None
) -> Iterator[BenchDB]:
    """A generated scratch database of `backend` at `scale`, removed on exit."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="planner-bench-") as tmp:
            path = Path(tmp) / "bench.db"
            url = f"sqlite:///{path}"
            engine, counts, took = _fill(url, scale)
            raw = sqlite3.connect(path)
            try:
                yield BenchDB(
                    backend, scale, url, engine, largest_plan(engine), raw,
                    sqlite3.sqlite_version, counts, took,
                )  # fmt: skip
            finally:
                raw.close()
                engine.dispose()
        return

    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = raw = None
    try:
        engine, counts, took = _fill(url, scale)
        raw = psycopg.connect(
            f"host=127.0.0.1 port=5432 user=postgres dbname={name}", autocommit=True
        )
        yield BenchDB(
            backend, scale, url, engine, largest_plan(engine), raw, pg_version or "?", counts, took
        )
    finally:
        if raw is not None:
            raw.close()
        if engine is not None:
            engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
