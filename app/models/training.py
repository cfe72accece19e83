"""Training: enrolments of people in plans or courses, completed training records, idempotency."""

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator
from pydantic import Field as PField
from sqlalchemy import JSON, Column, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.common import Domain, Level, UtcDateTime, utcnow
from app.models.courses import CourseCode, LanguageCode

MAX_BATCH = 10_000


class EnrollmentSource(StrEnum):
    direct = "direct"
    group = "group"


class RecordResult(StrEnum):
    passed = "passed"
    failed = "failed"
    attended = "attended"


def _fk(table: str, *, nullable: bool = False, ondelete: str = "RESTRICT") -> Column:
    return Column(
        Integer, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable, index=True
    )


class Enrollment(SQLModel, table=True):
    __tablename__ = "enrollment"
    # "plan:<id>" or "course:<id>": one unique key, since NULLs never collide in a unique index.
    __table_args__ = (UniqueConstraint("person_id", "target"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(sa_column=_fk("person"))
    plan_id: int | None = Field(default=None, sa_column=_fk("plan", nullable=True))
    course_id: int | None = Field(default=None, sa_column=_fk("course", nullable=True))
    target: str = Field(sa_type=String(32))
    source: EnrollmentSource = Field(default=EnrollmentSource.direct, sa_type=String(16))
    group_id: int | None = Field(
        default=None, sa_column=_fk("org_unit", nullable=True, ondelete="SET NULL")
    )
    assigned_at: dt.datetime = Field(default_factory=utcnow)
    assigned_by: str = Field(sa_type=String(200))


class TrainingRecord(SQLModel, table=True):
    __tablename__ = "training_record"
    __table_args__ = (UniqueConstraint("person_id", "source_key"),)

    id: int | None = Field(default=None, primary_key=True)
    # RESTRICT: records outlive deactivation; people are never deleted (see models.personnel).
    person_id: int = Field(sa_column=_fk("person"))
    course_id: int = Field(sa_column=_fk("course"))
    plan_id: int | None = Field(
        default=None, sa_column=_fk("plan", nullable=True, ondelete="SET NULL")
    )
    completed_on: dt.date = Field(index=True)
    result: RecordResult = Field(sa_type=String(16))
    grade: str | None = Field(default=None, sa_type=String(32))
    hours: float = 0
    certificate_number: str | None = Field(default=None, sa_type=String(100))
    expires_on: dt.date | None = None
    source_key: str = Field(sa_type=String(255))
    created_at: dt.datetime = Field(default_factory=utcnow)
    created_by: str = Field(sa_type=String(200))


class IdempotencyKey(SQLModel, table=True):
    """The first answer to a request carrying an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("actor", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    actor: str = Field(sa_type=String(200))
    key: str = Field(sa_type=String(255))
    request_hash: str = Field(sa_type=String(64))
    status_code: int
    body: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: dt.datetime = Field(default_factory=utcnow)


# ---- API schemas ---------------------------------------------------------------------------

PRINTABLE = r"^[^\x00-\x1f]*$"  # PostgreSQL refuses NUL in text; control characters are noise
Key = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=PRINTABLE)
]


class EnrollmentIn(BaseModel):
    """Assign one person (scim_id or employee number) or a whole unit/cohort to a plan or course."""

    model_config = ConfigDict(extra="forbid")

    person: Key | None = None
    unit: Key | None = None
    plan_id: Annotated[int, PField(ge=1, le=2**31 - 1)] | None = None
    course: CourseCode | None = None

    @model_validator(mode="after")
    def _one_each(self) -> Self:
        if (self.person is None) == (self.unit is None):
            raise ValueError("give exactly one of person or unit")
        if (self.plan_id is None) == (self.course is None):
            raise ValueError("give exactly one of plan_id or course")
        return self


class EnrollmentRead(BaseModel):
    id: int
    person: str
    plan_id: int | None
    course: str | None
    source: EnrollmentSource
    unit: str | None
    assigned_at: UtcDateTime
    assigned_by: str


class EnrollmentResult(BaseModel):
    created: list[EnrollmentRead]
    existing: int


class RecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person: Key  # scim_id or employee number
    course: CourseCode
    plan_id: Annotated[int, PField(ge=1, le=2**31 - 1)] | None = None
    completed_on: dt.date
    result: RecordResult
    grade: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=32, pattern=PRINTABLE)]
        | None
    ) = None
    hours: Annotated[float, PField(ge=0, le=2000)] = 0
    certificate_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=100, pattern=PRINTABLE)]
        | None
    ) = None
    expires_on: dt.date | None = None
    source_key: Key | None = None  # HR's own record id; default course@completed_on

    @model_validator(mode="after")
    def _expiry_after_completion(self) -> Self:
        if self.expires_on and self.expires_on < self.completed_on:
            raise ValueError("a record cannot expire before it was completed")
        return self


class RecordRead(BaseModel):
    id: int
    person: str
    employee_number: str | None
    course: str
    plan_id: int | None
    completed_on: dt.date
    result: RecordResult
    grade: str | None
    hours: float
    certificate_number: str | None
    expires_on: dt.date | None
    source_key: str
    created_at: UtcDateTime


class RecordPage(BaseModel):
    items: list[RecordRead]
    total: int
    limit: int
    offset: int


class ImportResult(BaseModel):
    created: int
    source_keys: list[str]


# ---- in-service requirements -----------------------------------------------------------------


class RequirementKind(StrEnum):
    hours_per_year = "hours_per_year"  # N contact hours of records in each calendar year
    refresher = "refresher"  # a course, or any course of a domain, every N years
    certificate = "certificate"  # a language certificate that has not expired


class ComplianceStatus(StrEnum):
    done = "done"
    due = "due"
    overdue = "overdue"


class Requirement(SQLModel, table=True):
    """A rule for the people of one position and/or audience level (neither: everyone)."""

    __tablename__ = "requirement"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(200))
    kind: RequirementKind = Field(sa_type=String(20))
    position: str | None = Field(default=None, sa_type=String(200))
    level: Level | None = Field(default=None, sa_type=String(16))
    hours: float | None = None
    course_id: int | None = Field(default=None, sa_column=_fk("course", nullable=True))
    domain: Domain | None = Field(default=None, sa_type=String(32))
    every_years: int | None = None
    language: str | None = Field(default=None, sa_type=String(2))
    created_at: dt.datetime = Field(default_factory=utcnow)
    created_by: str = Field(sa_type=String(200))


class RequirementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=3, max_length=200, pattern=PRINTABLE),
    ]
    kind: RequirementKind
    position: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=200, pattern=PRINTABLE)]
        | None
    ) = None
    level: Level | None = None
    hours: Annotated[float, PField(gt=0, le=2000)] | None = None
    course: CourseCode | None = None
    domain: Domain | None = None
    every_years: Annotated[int, PField(ge=1, le=20)] | None = None
    language: LanguageCode | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Self:
        if self.kind == RequirementKind.hours_per_year and self.hours is None:
            raise ValueError("hours_per_year needs hours")
        if self.kind == RequirementKind.refresher and (
            self.every_years is None or (self.course is None) == (self.domain is None)
        ):
            raise ValueError("refresher needs every_years and exactly one of course or domain")
        if self.kind == RequirementKind.certificate and self.language is None:
            raise ValueError("certificate needs a language")
        return self


class RequirementRead(BaseModel):
    id: int
    name: str
    kind: RequirementKind
    position: str | None
    level: Level | None
    hours: float | None
    course: str | None
    domain: Domain | None
    every_years: int | None
    language: str | None


class RequirementState(BaseModel):
    requirement: int
    name: str
    kind: RequirementKind
    status: ComplianceStatus
    due_on: dt.date | None
    detail: str


class PersonCompliance(BaseModel):
    person: str
    employee_number: str | None
    display_name: str
    status: ComplianceStatus
    requirements: list[RequirementState]


class ComplianceReport(BaseModel):
    as_of: dt.date
    unit: str | None
    items: list[PersonCompliance]
    total: int


class TranscriptPerson(BaseModel):
    id: str
    employee_number: str | None
    user_name: str
    display_name: str
    position: str | None
    level: Level | None
    active: bool


class Transcript(BaseModel):
    schema_version: int = 1
    person: TranscriptPerson
    records: list[RecordRead]
    enrollments: list[EnrollmentRead]
    in_service_hours_by_year: dict[str, float]
    requirements: list[RequirementState]


class TrainingDueNotice(SQLModel, table=True):
    """That `person.training_due` was sent for this person, rule, standing and due date."""

    __tablename__ = "training_due_notice"
    __table_args__ = (UniqueConstraint("person_id", "requirement_id", "status", "due_key"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(sa_column=_fk("person"))
    requirement_id: int = Field(sa_column=_fk("requirement", ondelete="CASCADE"))
    status: ComplianceStatus = Field(sa_type=String(16))
    due_key: str = Field(default="", sa_type=String(10))  # the due date, "" when there is none
    notified_at: dt.datetime = Field(default_factory=utcnow)
