"""Curriculum plans: courses placed in terms, with budgets, rules, workflow and versions."""

import datetime as dt
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator, model_validator
from pydantic import Field as PField
from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.common import Cefr, Level, UtcDateTime, utcnow
from app.models.courses import CourseCode, LanguageCode

PLAN_CODE = r"^[a-z0-9]+(-[a-z0-9]+)*$"
MAX_TERMS = 12


class PlanStatus(StrEnum):
    draft = "draft"
    in_review = "in_review"
    approved = "approved"
    archived = "archived"


class Action(StrEnum):
    submit = "submit"
    approve = "approve"
    return_ = "return"
    archive = "archive"


class Severity(StrEnum):
    error = "error"
    warning = "warning"


class Plan(SQLModel, table=True):
    __tablename__ = "plan"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_type=String(64), index=True)
    version: int = Field(default=1)
    name: str = Field(sa_type=String(300))
    description: str = Field(default="", sa_type=Text)
    audience: Level = Field(sa_type=String(16), index=True)
    academic_year: str = Field(sa_type=String(9), index=True)
    terms: int
    term_hour_budget: int
    term_budgets: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    total_hour_budget: int | None = None
    target_language: str | None = Field(default=None, sa_type=String(8))
    target_cefr: Cefr | None = Field(default=None, sa_type=String(2))
    status: PlanStatus = Field(default=PlanStatus.draft, sa_type=String(16), index=True)
    previous_version_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("plan.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    effective_from: dt.date | None = None
    revision: int = Field(default=1)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)

    def budget_of(self, term: int) -> int:
        return int(self.term_budgets.get(str(term), self.term_hour_budget))


class PlanRequiredInstrument(SQLModel, table=True):
    __tablename__ = "plan_required_instrument"

    plan_id: int = Field(
        sa_column=Column(Integer, ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True)
    )
    instrument_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("instrument.id", ondelete="RESTRICT"), primary_key=True, index=True
        )
    )


class ElectiveGroup(SQLModel, table=True):
    __tablename__ = "elective_group"
    __table_args__ = (UniqueConstraint("plan_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("plan.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    key: str = Field(sa_type=String(64))
    name: str = Field(sa_type=String(200))
    choose: int = 1


class PlanItem(SQLModel, table=True):
    __tablename__ = "plan_item"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("plan.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    course_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("course.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    term: int
    mandatory: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, default=True))
    elective_group_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("elective_group.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    hours_override: int | None = None
    override_reason: str | None = Field(default=None, sa_type=String(500))


class PlanTransition(SQLModel, table=True):
    __tablename__ = "plan_transition"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("plan.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    action: str = Field(sa_type=String(16))
    from_status: str = Field(sa_type=String(16))
    to_status: str = Field(sa_type=String(16))
    actor: str = Field(sa_type=String(120))
    at: dt.datetime = Field(default_factory=utcnow)
    comment: str = Field(default="", sa_type=Text)


# ---- API schemas -------------------------------------------------------------------------

AcademicYear = Annotated[str, StringConstraints(pattern=r"^\d{4}/\d{4}$")]
PlanCode = Annotated[str, StringConstraints(pattern=PLAN_CODE, max_length=64)]
GroupKey = Annotated[str, StringConstraints(pattern=PLAN_CODE, max_length=64)]
Budget = Annotated[int, PField(ge=1, le=10_000)]
Term = Annotated[int, PField(ge=1, le=MAX_TERMS)]


def check_academic_year(value: str | None) -> str | None:
    if value is not None:
        first, second = (int(x) for x in value.split("/"))
        if second != first + 1 or not 1990 <= first <= 2200:
            raise ValueError("an academic year is two consecutive years, like 2027/2028")
    return value


class LanguageTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: LanguageCode
    cefr_level: Cefr


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: GroupKey
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    choose: Annotated[int, PField(ge=1, le=50)] = 1


class _PlanFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
        | None
    ) = None
    description: Annotated[str, StringConstraints(max_length=10000)] | None = None
    audience: Level | None = None
    academic_year: AcademicYear | None = None
    terms: Term | None = None
    term_hour_budget: Budget | None = None
    term_budgets: dict[Term, Budget] | None = None
    total_hour_budget: Annotated[int, PField(ge=1, le=100_000)] | None = None
    language_target: LanguageTarget | None = None
    required_instruments: (
        Annotated[list[Annotated[str, StringConstraints(max_length=64)]], PField(max_length=200)]
        | None
    ) = None
    elective_groups: Annotated[list[GroupIn], PField(max_length=50)] | None = None
    effective_from: dt.date | None = None

    _year = field_validator("academic_year")(classmethod(lambda cls, v: check_academic_year(v)))

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.terms is not None and self.term_budgets:
            beyond = sorted(t for t in self.term_budgets if t > self.terms)
            if beyond:
                raise ValueError(
                    f"term_budgets names term(s) beyond the plan's {self.terms}: {beyond}"
                )
        if self.elective_groups:
            keys = [g.key for g in self.elective_groups]
            if len(set(keys)) != len(keys):
                raise ValueError("elective group keys must be unique")
        if self.required_instruments and len(set(self.required_instruments)) != len(
            self.required_instruments
        ):
            raise ValueError("an instrument is required twice")
        return self


class PlanCreate(_PlanFields):
    code: PlanCode | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
    audience: Level
    academic_year: AcademicYear
    terms: Term
    term_hour_budget: Budget


class PlanUpdate(_PlanFields):
    """Every field optional; lists given replace the stored ones."""


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    course_code: CourseCode
    term: Term
    mandatory: bool = True
    elective_group: GroupKey | None = None
    hours_override: Annotated[int, PField(ge=0, le=2000)] | None = None
    override_reason: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None
    ) = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.elective_group is not None:
            self.mandatory = False
        if self.hours_override is not None and not self.override_reason:
            raise ValueError("an hour override needs an override_reason")
        return self


class ItemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    term: Term | None = None
    mandatory: bool | None = None
    elective_group: GroupKey | None = None
    hours_override: Annotated[int, PField(ge=0, le=2000)] | None = None
    override_reason: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None
    ) = None


class ItemRead(BaseModel):
    id: int
    course_code: str
    course_title: str
    course_status: str
    term: int
    mandatory: bool
    elective_group: str | None
    hours: int
    course_contact_hours: int
    self_study_hours: int
    hours_override: int | None
    override_reason: str | None
    target_language: str | None
    cefr_level: str | None


class TermRead(BaseModel):
    term: int
    budget: int
    hours: int
    self_study_hours: int
    items: list[ItemRead]


class TransitionRead(BaseModel):
    action: str
    from_status: str
    to_status: str
    actor: str
    at: UtcDateTime
    comment: str


class PlanSummary(BaseModel):
    id: int
    code: str
    version: int
    name: str
    audience: Level
    academic_year: str
    terms: int
    status: PlanStatus
    item_count: int
    effective_from: dt.date | None
    updated_at: UtcDateTime


class PlanRead(BaseModel):
    id: int
    code: str
    version: int
    name: str
    description: str
    audience: Level
    academic_year: str
    terms: int
    term_hour_budget: int
    term_budgets: dict[int, int]
    total_hour_budget: int | None
    language_target: LanguageTarget | None
    required_instruments: list[str]
    elective_groups: list[GroupIn]
    status: PlanStatus
    previous_version: int | None
    next_versions: list[int]
    effective_from: dt.date | None
    total_hours: int
    term_plan: list[TermRead]
    transitions: list[TransitionRead]
    revision: int
    created_at: UtcDateTime
    updated_at: UtcDateTime


class PlanPage(BaseModel):
    items: list[PlanSummary]
    total: int
    limit: int
    offset: int


class Finding(BaseModel):
    severity: Severity
    rule: str
    message: str
    term: int | None = None
    course_code: str | None = None
    instrument_code: str | None = None


class Validation(BaseModel):
    valid: bool
    errors: int
    warnings: int
    findings: list[Finding]


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""


class VersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    academic_year: AcademicYear | None = None
    effective_from: dt.date | None = None

    _year = field_validator("academic_year")(classmethod(lambda cls, v: check_academic_year(v)))


class MovedCourse(BaseModel):
    course_code: str
    from_term: int
    to_term: int


class HoursChange(BaseModel):
    course_code: str
    from_hours: int
    to_hours: int


class CoverageChange(BaseModel):
    instrument_code: str
    before: list[str]
    after: list[str]


class PlanDiff(BaseModel):
    plan: int
    against: int
    added: list[str]
    removed: list[str]
    moved: list[MovedCourse]
    hours_changed: list[HoursChange]
    coverage_changed: list[CoverageChange]
