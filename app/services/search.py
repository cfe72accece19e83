"""Full-text search over courses and instruments: SQLite FTS5 or PostgreSQL tsvector.

The index is a side table kept in step by the services that write the indexed rows, in the
same transaction. On SQLite the FTS5 rowid encodes the entity (rowid = id * 4 + tag) so that
re-indexing one row is a primary-key delete rather than a scan.
"""

import re

from sqlalchemy import Integer, column, text
from sqlalchemy.sql.elements import TextClause
from sqlmodel import Session

from app.db import is_postgres

TAGS = {"course": 1, "instrument": 2}
MAX_TOKENS = 12
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def tokens(query: str, limit: int | None = MAX_TOKENS) -> list[str]:
    """Words of a text, lower-cased; punctuation and operators are never passed through."""
    return [t.lower() for t in _TOKEN.findall(query)][:limit]


def index(session: Session, entity: str, entity_id: int, document: str) -> None:
    """Replace the indexed text of one row."""
    # Split codes like "HR-101" into words the same way on both backends (PostgreSQL's parser
    # would otherwise read "-101" as a signed number that a query for "101" never matches).
    document = " ".join(tokens(document, limit=None))
    if is_postgres(session):
        session.execute(
            text(
                "INSERT INTO search_document (entity, entity_id, document) "
                "VALUES (:e, :i, to_tsvector('simple', :d)) "
                "ON CONFLICT (entity, entity_id) DO UPDATE SET document = EXCLUDED.document"
            ),
            {"e": entity, "i": entity_id, "d": document},
        )
        return
    rowid = entity_id * 4 + TAGS[entity]
    session.execute(text("DELETE FROM search_fts WHERE rowid = :r"), {"r": rowid})
    session.execute(
        text("INSERT INTO search_fts (rowid, body) VALUES (:r, :d)"), {"r": rowid, "d": document}
    )


def remove(session: Session, entity: str, entity_id: int) -> None:
    if is_postgres(session):
        session.execute(
            text("DELETE FROM search_document WHERE entity = :e AND entity_id = :i"),
            {"e": entity, "i": entity_id},
        )
    else:
        session.execute(
            text("DELETE FROM search_fts WHERE rowid = :r"), {"r": entity_id * 4 + TAGS[entity]}
        )


def matching_ids(session: Session, entity: str, query: str):
    """A sub-select of the ids of `entity` rows matching every word of `query` (prefixes too)."""
    words = tokens(query)
    if not words:
        return text("SELECT 0 AS id WHERE 1 = 0").columns(column("id", Integer))
    if is_postgres(session):
        clause: TextClause = text(
            "SELECT entity_id AS id FROM search_document WHERE entity = :e "
            "AND document @@ to_tsquery('simple', :q)"
        ).bindparams(e=entity, q=" & ".join(f"{w}:*" for w in words))
    else:
        clause = text(
            "SELECT rowid / 4 AS id FROM search_fts WHERE search_fts MATCH :q AND rowid % 4 = :t"
        ).bindparams(q=" ".join(f'"{w}"*' for w in words), t=TAGS[entity])
    return clause.columns(column("id", Integer))
