"""A crash in the middle of an import leaves the database as it was; a retried import completes.

On a fresh migrated database of each backend that already holds the shipped instruments,
`python -m app.cli load` imports the shipped curricula plus 400 generated courses (and one
changed instrument) in a subprocess. As soon as the loader holds its write transaction (observed
from outside: SQLite's write lock is taken; PostgreSQL's pg_locks shows a row lock mode on
`course`) and a little after, the process is killed with SIGKILL. Every table must then hold
exactly what it held before, and a rerun of the same command must load everything.
"""

import copy
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.cli import migrate
from app.config import ROOT
from app.db import build_engine
from app.services import loader

# The load reads and validates every file before it writes (~20 ms per course), then writes them
# all in one transaction (~15 ms per course): 400 extra courses keep it writing for seconds.
EXTRA_COURSES = 400
KILL_AFTER_WRITING_S = 0.5  # once the write transaction is seen, let it write a while
CHANGED_INSTRUMENT_SUMMARY = "Changed by the crash test: must not survive the crash."


def _snapshot(url: str) -> dict[str, object]:
    """Row counts of every table, plus the instruments' (code, version, summary)."""
    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            tables = [
                t
                for t in inspect(conn).get_table_names()
                if t != "alembic_version" and not t.startswith("search_fts_")
            ]
            state: dict[str, object] = {
                t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables
            }
            state["instrument rows"] = [
                tuple(r)
                for r in conn.execute(
                    text("SELECT code, version, summary FROM instrument ORDER BY code")
                )
            ]
    finally:
        engine.dispose()
    return state


def _big_curricula(folder: Path) -> Path:
    """The shipped curricula, one instrument changed, and EXTRA_COURSES generated courses."""
    shutil.copytree(ROOT / "curricula", folder)
    first = sorted((folder / "instruments").glob("*.yaml"))[0]
    data = yaml.safe_load(first.read_text(encoding="utf-8"))
    data["instruments"][0]["summary"] = CHANGED_INSTRUMENT_SUMMARY
    first.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    templates = [
        c
        for f in sorted((ROOT / "curricula" / "courses").glob("*.yaml"))
        for c in yaml.safe_load(f.read_text(encoding="utf-8"))["courses"]
    ]
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    per_file = 100
    for start in range(0, EXTRA_COURSES, per_file):
        batch = []
        for n in range(start, min(start + per_file, EXTRA_COURSES)):
            course = copy.deepcopy(templates[n % len(templates)])
            course["code"] = f"X{letters[n // 1000 % 26]}{letters[n // 100 % 10]}-{n % 1000:03d}"
            course["title"] = f"{course['title']} (generated {n})"
            course["prerequisites"] = []
            batch.append(course)
        path = folder / "courses" / f"generated_{start // per_file:02d}.yaml"
        path.write_text(
            yaml.safe_dump({"courses": batch}, allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
    return folder


def _writer_active(url: str) -> bool:
    """Whether another connection holds an open write transaction on the database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn = sqlite3.connect(parsed.database, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return True
            raise
        else:
            conn.execute("ROLLBACK")
            return False
        finally:
            conn.close()
    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                        " WHERE c.relname = 'course' AND l.mode = 'RowExclusiveLock'"
                        " AND l.pid <> pg_backend_pid()"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _load(url: str, path: Path, **popen) -> subprocess.Popen:
    env = {**os.environ, "PLANNER_DATABASE_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "load", str(path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


@pytest.fixture
def crash_url(fresh_url, tmp_path) -> str:
    """A migrated database already holding the shipped instruments."""
    migrate("head", database_url=fresh_url)
    shutil.copytree(ROOT / "curricula" / "instruments", tmp_path / "instruments-only")
    engine = build_engine(fresh_url)
    try:
        with Session(engine) as session:
            loader.load(session, tmp_path / "instruments-only")
    finally:
        engine.dispose()
    return fresh_url


def test_killed_import_leaves_database_unchanged_and_retry_completes(crash_url, tmp_path):
    url = crash_url
    folder = _big_curricula(tmp_path / "curricula")
    bundle = loader.read(folder)
    before = _snapshot(url)
    assert before["instrument"] == len(bundle.instruments) and before["course"] == 0
    assert before["audit_event"] == before["instrument"]

    proc = _load(url, folder)
    try:
        deadline = time.monotonic() + 120
        while not _writer_active(url):
            assert proc.poll() is None, (
                "the load ended before it was seen writing: "
                f"rc={proc.returncode}\n{proc.stdout.read()}\n{proc.stderr.read()}"
            )
            assert time.monotonic() < deadline, "the load never started writing"
            time.sleep(0.02)
        time.sleep(KILL_AFTER_WRITING_S)
        assert proc.poll() is None, (
            "the load finished before it could be killed: make EXTRA_COURSES larger\n"
            + proc.stdout.read()
        )
        assert _writer_active(url), "the write transaction closed before the kill"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    # The server (PostgreSQL) notices the dead client and rolls back; SQLite recovers its WAL.
    deadline = time.monotonic() + 30
    while _writer_active(url):
        assert time.monotonic() < deadline, "the killed load's transaction was never released"
        time.sleep(0.1)
    after_crash = _snapshot(url)
    assert after_crash == before

    # The same import, retried, completes and writes everything.
    retry = _load(url, folder)
    out, err = retry.communicate(timeout=600)
    assert retry.returncode == 0, err
    assert f"courses: {len(bundle.courses)} created" in out, out
    assert f"instruments: {len(bundle.instruments) - 1} unchanged, 1 updated" in out, out
    after = _snapshot(url)
    assert after["instrument"] == len(bundle.instruments)
    assert after["course"] == len(bundle.courses) > EXTRA_COURSES
    assert after["course_link"] == sum(len(c.links) for c in bundle.courses)
    assert after["provision"] == sum(len(i.provisions) for i in bundle.instruments)
    assert after["plan"] == len(bundle.plans)
    assert after["plan_item"] == sum(len(p.items) for p in bundle.plans)
    # One audit event per created or changed entity.
    created_or_changed = len(bundle.courses) + 1 + len(bundle.plans)
    assert after["audit_event"] == before["audit_event"] + created_or_changed
    changed = [row for row in after["instrument rows"] if row[2] == CHANGED_INSTRUMENT_SUMMARY]
    assert len(changed) == 1 and changed[0][1] == 2
