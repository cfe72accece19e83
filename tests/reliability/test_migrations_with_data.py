"""Migrations run against a database that holds data, not only an empty one.

On a fresh database of each backend: upgrade to head, load the shipped curricula (plus a user, a
machine client and their audit events), then downgrade one revision at a time. Each step must
keep every row of every table it does not drop (a batch migration on SQLite that recreates a
table must not lose or cascade-delete rows). Back at the first revision, upgrade to head again:
`alembic check` finds no drift and the loader sees the catalogue unchanged. Finally a full
downgrade to base succeeds with the data still present.
"""

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import Session

from app.cli import alembic_config
from app.config import ROOT
from app.db import build_engine
from app.models.accounts import ClientCreate, Role, Scope, UserCreate
from app.services import accounts, loader


def _state(url: str) -> tuple[str | None, dict[str, int]]:
    """The current revision and the row count of every table (SQLite's FTS shadow tables and
    alembic_version aside)."""
    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
            tables = [
                t
                for t in inspect(conn).get_table_names()
                if t != "alembic_version" and not t.startswith("search_fts_")
            ]
            counts = {
                t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables
            }
    finally:
        engine.dispose()
    return revision, counts


def _fill(url: str) -> None:
    engine = build_engine(url)
    try:
        with Session(engine) as session:
            loader.load(session, ROOT / "curricula")
            accounts.create_user(
                session,
                UserCreate(username="planner", role=Role.planner, password="x" * 16),
                actor="tests",
            )
            accounts.create_client(
                session, ClientCreate(name="migration-test", scopes=list(Scope)), actor="tests"
            )
    finally:
        engine.dispose()


def test_step_by_step_downgrade_and_back_keeps_data(fresh_url):
    cfg = alembic_config(fresh_url)
    script = ScriptDirectory.from_config(cfg)
    revisions = [r.revision for r in script.walk_revisions()]  # head first
    assert len(script.get_heads()) == 1, "one linear history"
    command.upgrade(cfg, "head")
    _fill(fresh_url)
    revision, at_head = _state(fresh_url)
    assert revision == revisions[0]
    for table in ("instrument", "provision", "course", "course_link", "plan", "plan_item"):
        assert at_head[table] > 0, table
    assert at_head["audit_event"] >= at_head["instrument"] + at_head["course"] + at_head["plan"]

    # Down one step at a time to the first revision: what remains is untouched.
    for target in revisions[1:]:
        command.downgrade(cfg, target)
        revision, counts = _state(fresh_url)
        assert revision == target
        kept = {t: at_head[t] for t in counts}
        assert counts == kept, f"rows lost when downgrading to {target}"
    first = revisions[-1]
    _, at_first = _state(fresh_url)
    for table in ("instrument", "provision", "course", "course_link", "audit_event"):
        assert at_first[table] == at_head[table], table

    # Back up to head: the schema matches the models, old rows are still there and consistent.
    command.upgrade(cfg, "head")
    command.check(cfg)
    revision, again = _state(fresh_url)
    assert revision == revisions[0]
    assert {t: again[t] for t in at_first} == at_first
    engine = build_engine(fresh_url)
    try:
        with Session(engine) as session:
            report = loader.load(session, ROOT / "curricula")
    finally:
        engine.dispose()
    assert set(report.counts["instruments"]) == {"unchanged"}, report.lines()
    assert set(report.counts["courses"]) == {"unchanged"}, report.lines()
    assert report.counts["plans"]["created"] == at_head["plan"], report.lines()

    # And all the way down, with data in every table.
    command.downgrade(cfg, "base")
    revision, counts = _state(fresh_url)
    assert revision is None
    assert counts == {}, f"left over after downgrading from {first}: {counts}"
