"""Alembic environment: the URL comes from the config (set by `planner migrate`) or settings."""

from alembic import context

import app.models  # noqa: F401  (registers every table)
from app.config import get_settings
from app.db import build_engine, metadata

config = context.config
# Tables maintained by hand in migrations (full-text indexes) are not in the models.
UNMODELLED = ("search_fts", "search_document")


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "table" and name and name.startswith(UNMODELLED):
        return False
    if (
        type_ == "index"
        and getattr(obj, "table", None) is not None
        and obj.table.name.startswith(UNMODELLED)
    ):
        return False
    return True


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = build_engine(url)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `planner migrate`")
run_migrations_online()
