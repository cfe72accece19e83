"""Schemas of the coverage matrix and the gap report."""

from pydantic import BaseModel

from app.models.common import CourseStatus, Depth, Domain, LinkKind


class MatrixCourse(BaseModel):
    code: str
    title: str
    domain: Domain
    status: CourseStatus


class MatrixInstrument(BaseModel):
    code: str
    short_title: str
    themes: list[str]


class MatrixCell(BaseModel):
    course: str
    instrument: str
    kinds: list[LinkKind]
    depth: Depth
    hours: int
    provisions: int


class CoverageMatrix(BaseModel):
    courses: list[MatrixCourse]
    instruments: list[MatrixInstrument]
    cells: list[MatrixCell]


class GapInstrument(BaseModel):
    code: str
    title: str
    themes: list[str]
    referenced_only: bool


class GapProvision(BaseModel):
    code: str
    instrument: str
    number: str
    heading: str
    taught: bool


class GapReport(BaseModel):
    party: str | None
    uncovered_instruments: list[GapInstrument]
    unassessed_provisions: list[GapProvision]
