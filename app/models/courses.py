"""The course catalogue: courses, their outcomes, prerequisites and links to instruments."""

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator, model_validator
from pydantic import Field as PField
from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.common import (
    Bloom,
    Cefr,
    CourseStatus,
    Depth,
    Domain,
    Level,
    LinkKind,
    UtcDateTime,
    utcnow,
)

COURSE_CODE = r"^[A-Z]{2,4}-[0-9]{3}[A-Z]?$"
LANGUAGE = r"^[a-z]{2}$"
# An instrument code, optionally followed by "/provision-key".
TARGET = r"^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9.-]*)?$"

CourseCode = Annotated[str, StringConstraints(pattern=COURSE_CODE)]
LanguageCode = Annotated[str, StringConstraints(pattern=LANGUAGE)]
Text1 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
Hours = Annotated[int, PField(ge=0, le=2000)]


class Course(SQLModel, table=True):
    __tablename__ = "course"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_type=String(16), unique=True, index=True)
    title: str = Field(sa_type=String(300))
    domain: Domain = Field(sa_type=String(32), index=True)
    level: Level = Field(sa_type=String(16), index=True)
    status: CourseStatus = Field(default=CourseStatus.draft, sa_type=String(16), index=True)
    restricted: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, default=False)
    )
    description: str = Field(default="", sa_type=Text)
    lecture_hours: int = 0
    seminar_hours: int = 0
    practical_hours: int = 0
    self_study_hours: int = 0
    credits: float = 0
    language_of_instruction: str = Field(default="uz", sa_type=String(8))
    target_language: str | None = Field(default=None, sa_type=String(8))
    cefr_level: Cefr | None = Field(default=None, sa_type=String(2))
    topics: list[str] = Field(default_factory=list, sa_type=JSON)
    assessment: str = Field(default="", sa_type=Text)
    references: list[str] = Field(default_factory=list, sa_type=JSON)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def contact_hours(self) -> int:
        return self.lecture_hours + self.seminar_hours + self.practical_hours


class CourseOutcome(SQLModel, table=True):
    __tablename__ = "course_outcome"
    __table_args__ = (UniqueConstraint("course_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("course.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    position: int
    text: str = Field(sa_type=Text)
    bloom: Bloom = Field(sa_type=String(16))


class CoursePrerequisite(SQLModel, table=True):
    __tablename__ = "course_prerequisite"

    course_id: int = Field(
        sa_column=Column(Integer, ForeignKey("course.id", ondelete="CASCADE"), primary_key=True)
    )
    prerequisite_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("course.id", ondelete="RESTRICT"), primary_key=True, index=True
        )
    )


class CourseLink(SQLModel, table=True):
    __tablename__ = "course_link"

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("course.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    instrument_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("instrument.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    provision_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("provision.id", ondelete="RESTRICT"), nullable=True, index=True
        ),
    )
    kind: LinkKind = Field(sa_type=String(16))
    depth: Depth = Field(sa_type=String(16))
    hours: int = 0


# ---- API schemas -------------------------------------------------------------------------


class Outcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text1
    bloom: Bloom


class HoursRead(BaseModel):
    lecture: int
    seminar: int
    practical: int
    self_study: int
    contact: int
    total: int


class HoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lecture: Hours = 0
    seminar: Hours = 0
    practical: Hours = 0
    self_study: Hours = 0


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: Annotated[str, StringConstraints(pattern=TARGET, max_length=200)] = PField(
        description="Instrument code, or instrument code/provision key (e.g. `ccleo-1979/art-3`)"
    )
    kind: LinkKind
    depth: Depth = Depth.introduced
    hours: Hours = 0


class LinkRead(BaseModel):
    id: int
    target: str
    instrument: str
    provision: str | None
    kind: LinkKind
    depth: Depth
    hours: int


class _CourseFields(BaseModel):
    """Fields a client may set; shared by create and update."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    domain: Domain | None = None
    level: Level | None = None
    status: CourseStatus | None = None
    restricted: bool | None = None
    description: Annotated[str, StringConstraints(max_length=10000)] | None = None
    hours: HoursIn | None = None
    credits: Annotated[float, PField(ge=0, le=60, multiple_of=0.5)] | None = None
    language_of_instruction: LanguageCode | None = None
    target_language: LanguageCode | None = None
    cefr_level: Cefr | None = None
    outcomes: Annotated[list[Outcome], PField(max_length=50)] | None = None
    topics: Annotated[list[Text1], PField(max_length=100)] | None = None
    assessment: Annotated[str, StringConstraints(max_length=10000)] | None = None
    references: Annotated[list[Text1], PField(max_length=50)] | None = None
    prerequisites: Annotated[list[CourseCode], PField(max_length=50)] | None = None

    @field_validator("prerequisites")
    @classmethod
    def _unique_prerequisites(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("a prerequisite is listed twice")
        return value


class CourseCreate(_CourseFields):
    code: CourseCode
    title: Title
    domain: Domain
    level: Level
    status: CourseStatus = CourseStatus.draft
    hours: HoursIn = HoursIn()
    credits: Annotated[float, PField(ge=0, le=60, multiple_of=0.5)] = 0

    @model_validator(mode="after")
    def _language_fields(self) -> Self:
        check_language_fields(self.domain, self.target_language, self.cefr_level)
        if self.prerequisites and self.code in self.prerequisites:
            raise ValueError("a course cannot be its own prerequisite")
        return self


class CourseUpdate(_CourseFields):
    """Every field optional; lists given replace the stored ones."""


def check_language_fields(domain: Domain | None, target: str | None, cefr: Cefr | None) -> None:
    """A language course names the language and the CEFR level it reaches; others name neither."""
    if domain == Domain.foreign_languages and (target is None or cefr is None):
        raise ValueError("a foreign-language course needs target_language and cefr_level")
    if domain is not None and domain != Domain.foreign_languages and (target or cefr):
        raise ValueError("target_language and cefr_level are only for foreign-language courses")


class CourseSummary(BaseModel):
    code: str
    title: str
    domain: Domain
    level: Level
    status: CourseStatus
    restricted: bool
    hours: HoursRead
    credits: float
    language_of_instruction: str
    target_language: str | None
    cefr_level: Cefr | None
    version: int


class CourseRead(CourseSummary):
    description: str
    outcomes: list[Outcome]
    topics: list[str]
    assessment: str
    references: list[str]
    prerequisites: list[str]
    required_by: list[str]
    links: list[LinkRead]
    created_at: UtcDateTime
    updated_at: UtcDateTime


class CoursePage(BaseModel):
    items: list[CourseSummary]
    total: int
    limit: int
    offset: int
