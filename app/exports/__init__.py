"""Documents made from what the services read: syllabi, plan books and matrix spreadsheets.

Renderers take plain data and return bytes; they never write to the database and know nothing
of HTTP. Output is deterministic: the same data gives the same bytes, except for the one
generation timestamp each document states.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from urllib.parse import quote

STATIC = Path(__file__).resolve().parent.parent / "static"
FONTS = STATIC / "fonts"


class SyllabusFormat(StrEnum):
    html = "html"
    pdf = "pdf"
    docx = "docx"
    md = "md"
    json = "json"


class BookFormat(StrEnum):
    html = "html"
    pdf = "pdf"
    docx = "docx"
    json = "json"


class MatrixFormat(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Document:
    """A rendered file: its bytes, media type and the name to save it under."""

    body: bytes
    extension: str
    stem: str
    inline: bool = False  # HTML opens in the browser (and prints from there); the rest download

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.extension]

    @property
    def filename(self) -> str:
        return f"{self.stem}.{self.extension}"

    @property
    def disposition(self) -> str:
        kind = "inline" if self.inline else "attachment"
        return f"{kind}; filename=\"{self.filename}\"; filename*=UTF-8''{quote(self.filename)}"


def stamp(moment: datetime) -> str:
    """The generation timestamp as every format prints it (ISO 8601, UTC, to the second)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
