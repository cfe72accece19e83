"""The JSON documents of the syllabus exports; the HTML, PDF, DOCX and Markdown render the same.

`schema_version` changes only when a field is removed or changes meaning; new fields may appear
without a new version.
"""

from typing import Literal

from pydantic import BaseModel, Field

from app.models.common import Bloom, Cefr, CourseStatus, Depth, Domain, Level, LinkKind, UtcDateTime
from app.models.courses import HoursRead
from app.models.coverage import CoverageMatrix
from app.models.plans import PlanRead, Validation

SCHEMA_VERSION = 1


class NumberedOutcome(BaseModel):
    position: int = Field(description="1-based order in which the syllabus lists the outcome")
    text: str
    bloom: Bloom


class LegalBasisEntry(BaseModel):
    """One link of the course to an instrument, or to one provision of it."""

    instrument: str = Field(description="Instrument code, e.g. `iccpr-1966`")
    instrument_title: str = Field(description="The instrument's official title")
    provision: str | None = Field(description="Provision key, e.g. `iccpr-1966/art-2`")
    number: str | None = Field(description="Provision number as printed, e.g. `Article 2`")
    heading: str | None = Field(description="Provision heading")
    kind: LinkKind
    depth: Depth
    hours: int


class CourseSyllabus(BaseModel):
    code: str
    title: str
    version: int
    status: CourseStatus
    restricted: bool
    domain: Domain
    level: Level
    credits: float
    aims: str = Field(description="The course description")
    outcomes: list[NumberedOutcome]
    hours: HoursRead
    topics: list[str]
    prerequisites: list[str] = Field(description="Codes of the courses to complete first")
    legal_basis: list[LegalBasisEntry]
    assessment: str
    language_of_instruction: str
    target_language: str | None = Field(description="Language courses only")
    cefr_level: Cefr | None = Field(description="Language courses only")
    references: list[str]
    updated_at: UtcDateTime


class SyllabusDocument(BaseModel):
    """GET /api/v1/courses/{code}/syllabus?format=json"""

    schema_version: Literal[1] = SCHEMA_VERSION
    generated_at: UtcDateTime
    academy: str
    course: CourseSyllabus


class PlanBookDocument(BaseModel):
    """GET /api/v1/plans/{id}/syllabus?format=json"""

    schema_version: Literal[1] = SCHEMA_VERSION
    generated_at: UtcDateTime
    academy: str
    plan: PlanRead
    courses: list[CourseSyllabus] = Field(
        description="Syllabi of the plan's courses in term order (courses the reader may not "
        "see in the catalogue are left out)"
    )
    withheld: list[str] = Field(description="Codes of plan courses whose syllabus is left out")
    coverage: CoverageMatrix
    validation: Validation
