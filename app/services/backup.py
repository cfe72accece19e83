"""Backup and restore of the whole database as one versioned JSON document.

Every table of the models is written, rows in primary-key order, so that two dumps of the same
data are identical but for `generated_at`. Left out: first-run setup links and login-throttling
counters (transient), and the full-text index (rebuilt on restore).

A restore writes into an empty database only: no table may hold rows, except the accounts and
audit events that first-run setup leaves behind. Those accounts are replaced by the backup's,
and the backup's audit events are appended after any already there (the trail is append-only);
everything else keeps its primary keys. PostgreSQL sequences are moved past the restored keys.
One transaction: a restore that fails leaves the database as it was.
"""

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Table, delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, StatementError
from sqlmodel import Session

import app.models  # noqa: F401  (registers every table)
from app.db import is_postgres, metadata
from app.errors import Conflict, Invalid, field_error
from app.models.common import utcnow
from app.models.courses import Course
from app.models.instruments import Instrument, Provision
from app.services import audit, courses, search

FORMAT = "police-curriculum-planner-backup"
VERSION = 1
SKIPPED = {"setup_token", "login_failure"}
ACCOUNTS = ("api_client", "user_account")
TRAIL = "audit_event"


class Backup(BaseModel):
    format: Literal["police-curriculum-planner-backup"]
    version: Literal[1]
    generated_at: dt.datetime
    schema_revision: str | None
    tables: dict[str, list[dict[str, Any]]]


class RestoreReport(BaseModel):
    tables: dict[str, int]


def tables() -> list[Table]:
    """The tables a backup holds, parents before children."""
    return [t for t in metadata.sorted_tables if t.name not in SKIPPED]


def schema_revision(session: Session) -> str | None:
    """The Alembic revision the database is at."""
    try:
        with session.begin_nested():
            return session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None


def _out(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def dump(session: Session) -> dict[str, Any]:
    """Everything, as the versioned backup document; reads only."""
    out: dict[str, list[dict[str, Any]]] = {}
    for table in tables():
        rows = session.execute(select(table).order_by(*table.primary_key.columns)).mappings()
        out[table.name] = [{k: _out(v) for k, v in row.items()} for row in rows]
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": utcnow().isoformat(),
        "schema_revision": schema_revision(session),
        "tables": out,
    }


def _python_type(column) -> type | None:
    kind = column.type
    kind = getattr(kind, "impl_instance", kind)  # a TypeDecorator stores as its impl
    try:
        return kind.python_type
    except NotImplementedError:
        return None


def _in(table: Table, row: dict[str, Any], name: str) -> dict[str, Any]:
    unknown = sorted(set(row) - set(table.columns.keys()))
    if unknown:
        raise Invalid(
            f"Table {name} has unknown column(s): {', '.join(unknown)}.",
            errors=[field_error(["tables", name, c], "unknown column") for c in unknown],
        )
    values = {}
    for key, value in row.items():
        kind = _python_type(table.columns[key])
        try:
            if isinstance(value, str) and kind is dt.datetime:
                value = dt.datetime.fromisoformat(value)
            elif isinstance(value, str) and kind is dt.date:
                value = dt.date.fromisoformat(value)
        except ValueError:
            raise Invalid(
                f"Table {name}: {key} {value!r} is not a date.",
                errors=[field_error(["tables", name, key], "not an ISO date")],
            ) from None
        values[key] = value
    return values


def occupied(session: Session) -> list[str]:
    """Tables holding data that a restore would collide with."""
    return [
        t.name
        for t in tables()
        if t.name not in (*ACCOUNTS, TRAIL)
        and session.execute(select(func.count()).select_from(t)).scalar()
    ]


def _insert(session: Session, table: Table, rows: list[dict[str, Any]], keep_ids: bool) -> None:
    if not keep_ids:
        rows = [
            {k: v for k, v in r.items() if k not in table.primary_key.columns.keys()} for r in rows
        ]
    # A row may point at a later row of its own table: insert without, then set the pointers.
    own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    deferred = [r for r in rows if any(r.get(c) is not None for c in own)]
    if not rows:
        return
    session.execute(insert(table), [{**r, **dict.fromkeys(own)} if own else r for r in rows])
    (pk,) = table.primary_key.columns if own else (None,)
    for r in deferred:
        session.execute(update(table).where(pk == r[pk.name]).values({c: r.get(c) for c in own}))


def _reset_sequences(session: Session) -> None:
    if not is_postgres(session):
        return  # SQLite takes max(rowid) + 1 by itself
    for table in tables():
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and _python_type(pk[0]) is int and pk[0].autoincrement in (True, "auto"):
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence(:t, :c), "
                    f'COALESCE((SELECT MAX("{pk[0].name}") FROM "{table.name}"), 0) + 1, false)'
                ),
                {"t": table.name, "c": pk[0].name},
            )


def instrument_text(instrument: Instrument, provisions: list[Provision]) -> str:
    """What the full-text index holds for an instrument (as the loader writes it)."""
    return " ".join(
        [
            instrument.code,
            instrument.title,
            instrument.short_title,
            instrument.body,
            instrument.summary,
            *(instrument.aliases or []),
            *(f"{p.number} {p.heading}" for p in provisions),
        ]
    )


def reindex(session: Session) -> None:
    """Rebuild the full-text index of every course and instrument."""
    for course in session.execute(select(Course)).scalars():
        courses._reindex(session, course)
    provisions: dict[int, list[Provision]] = {}
    for p in session.execute(select(Provision).order_by(Provision.position)).scalars():
        provisions.setdefault(p.instrument_id, []).append(p)
    for inst in session.execute(select(Instrument)).scalars():
        search.index(
            session, "instrument", inst.id, instrument_text(inst, provisions.get(inst.id, []))
        )


def restore(session: Session, data: Any, *, actor: str | None = None) -> dict[str, int]:
    """Load a backup into an empty database, all of it or nothing; rows restored per table."""
    backup = data if isinstance(data, Backup) else Backup.model_validate(data)
    known = {t.name: t for t in tables()}
    unknown = sorted(set(backup.tables) - set(known))
    if unknown:
        raise Invalid(
            f"The backup holds table(s) this version does not know: {', '.join(unknown)}.",
            errors=[field_error(["tables", t], "unknown table") for t in unknown],
        )
    current = schema_revision(session)
    if backup.schema_revision != current:
        raise Conflict(
            f"The backup is of schema revision {backup.schema_revision}, the database is at "
            f"{current}; restore into a database at the backup's revision."
        )
    busy = occupied(session)
    if busy:
        raise Conflict(
            f"The database is not empty ({', '.join(busy)}); restore needs an empty database."
        )
    counts: dict[str, int] = {}
    try:
        for name in ACCOUNTS:
            if backup.tables.get(name):
                session.execute(delete(known[name]))
        trail_empty = not session.execute(select(func.count()).select_from(known[TRAIL])).scalar()
        for table in tables():
            rows = [_in(table, r, table.name) for r in backup.tables.get(table.name, [])]
            _insert(session, table, rows, keep_ids=table.name != TRAIL or trail_empty)
            counts[table.name] = len(rows)
        session.flush()
        _reset_sequences(session)
        reindex(session)
        if actor:
            audit.record(
                session,
                actor=actor,
                action="restore",
                entity="database",
                key=backup.generated_at.isoformat(),
                after={"counts": counts, "schema_revision": current},
            )
        session.commit()
    except (DBAPIError, StatementError) as exc:
        session.rollback()
        raise Invalid(
            "The backup does not fit the schema; nothing was restored.",
            errors=[field_error(["tables"], str(getattr(exc, "orig", exc)).splitlines()[0])],
        ) from None
    except Exception:
        session.rollback()
        raise
    return counts
