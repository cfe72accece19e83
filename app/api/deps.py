"""Dependencies and HTTP helpers shared by the JSON routers."""

import re
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Response

from app.db import SessionDep
from app.errors import PreconditionFailed, PreconditionRequired
from app.models.courses import COURSE_CODE, Course
from app.models.instruments import Instrument
from app.services import courses, instruments

Limit = Annotated[int, Query(ge=1, le=500, description="Page size (1-500)")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip")]
SearchQuery = Annotated[str | None, Query(max_length=200, description="Full-text search words")]

_ETAG = re.compile(r'\s*(?:W/)?"(\d+)"\s*')


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def expected_version(if_match: str | None) -> int | None:
    """The version named by If-Match; None for `*`. Missing -> 428, unparseable -> 412."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "This write needs an If-Match header with the ETag you last read (or `*`)."
        )
    if if_match.strip() == "*":
        return None
    versions = [m.group(1) for part in if_match.split(",") if (m := _ETAG.fullmatch(part))]
    if len(versions) != 1:
        raise PreconditionFailed("If-Match must carry exactly one ETag of this resource.")
    return int(versions[0])


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="ETag of the version you edit (`*` to overwrite whatever is there)",
    ),
]


def expected(if_match: IfMatch = None) -> int | None:
    return expected_version(if_match)


ExpectedVersion = Annotated[int | None, Depends(expected)]


def load_course(
    session: SessionDep, code: Annotated[str, Path(max_length=16, pattern=COURSE_CODE)]
) -> Course:
    return courses.get(session, code)


def load_instrument(
    session: SessionDep, code: Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9-]+$")]
) -> Instrument:
    return instruments.get(session, code)


CourseDep = Annotated[Course, Depends(load_course)]
InstrumentDep = Annotated[Instrument, Depends(load_instrument)]
