"""The schema comes from Alembic alone: no drift from the models, and a clean round trip."""

from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from app.cli import alembic_config
from app.db import build_engine


def test_upgrade_check_downgrade_upgrade(fresh_url):
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "head")
    command.check(cfg)  # raises if the models and the migrations disagree
    engine = build_engine(fresh_url)
    tables = set(inspect(engine).get_table_names())
    assert {"course", "instrument", "provision", "course_link", "audit_event"} <= tables
    command.downgrade(cfg, "base")
    leftover = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert leftover == set()
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() is not None
    engine.dispose()


def test_sqlite_pragmas(tmp_path):
    engine = build_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
    engine.dispose()
