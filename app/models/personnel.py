"""Personnel: people (SCIM Users), organisational units and cohorts (SCIM Groups), languages.

People are never deleted: deprovisioning marks them inactive or deleted and keeps the row, since
training records refer to people by id.
"""

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator
from pydantic import Field as PField
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlmodel import Field, SQLModel

from app.models.common import Cefr, Level, UtcDateTime, utcnow
from app.models.courses import LanguageCode


def new_scim_id() -> str:
    return str(uuid.uuid4())


class UnitKind(StrEnum):
    unit = "unit"
    cohort = "cohort"


class OrgUnit(SQLModel, table=True):
    __tablename__ = "org_unit"

    id: int | None = Field(default=None, primary_key=True)
    scim_id: str = Field(default_factory=new_scim_id, sa_type=String(36), unique=True, index=True)
    external_id: str | None = Field(default=None, sa_type=String(255), index=True)
    display_name: str = Field(sa_type=String(300), index=True)
    kind: UnitKind = Field(default=UnitKind.unit, sa_type=String(16), index=True)
    parent_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("org_unit.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    version: int = Field(default=1)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    deleted_at: dt.datetime | None = None


class Person(SQLModel, table=True):
    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    scim_id: str = Field(default_factory=new_scim_id, sa_type=String(36), unique=True, index=True)
    external_id: str | None = Field(default=None, sa_type=String(255), index=True)
    user_name: str = Field(sa_type=String(255))
    # casefold(user_name) while the person exists; freed on deletion so that it can be reused.
    user_name_key: str | None = Field(default=None, sa_type=String(255), unique=True, index=True)
    given_name: str | None = Field(default=None, sa_type=String(200))
    family_name: str | None = Field(default=None, sa_type=String(200), index=True)
    display_name: str | None = Field(default=None, sa_type=String(300))
    emails: list[dict] = Field(default_factory=list, sa_type=JSON)
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, default=True))
    employee_number: str | None = Field(default=None, sa_type=String(64), unique=True, index=True)
    organization: str | None = Field(default=None, sa_type=String(200))
    division: str | None = Field(default=None, sa_type=String(200))
    department: str | None = Field(default=None, sa_type=String(200))
    manager_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("person.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    rank: str | None = Field(default=None, sa_type=String(120))
    position: str | None = Field(default=None, sa_type=String(200))
    title: str | None = Field(default=None, sa_type=String(200))
    unit_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("org_unit.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    level: Level | None = Field(default=None, sa_type=String(16))
    # Casefolded names and numbers, so that search ignores case in every script on both databases.
    search_text: str = Field(default="", sa_type=String(1200))
    version: int = Field(default=1)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    deactivated_at: dt.datetime | None = None
    deleted_at: dt.datetime | None = None

    @property
    def name(self) -> str:
        full = " ".join(p for p in (self.given_name, self.family_name) if p)
        return self.display_name or full or self.user_name


class GroupMember(SQLModel, table=True):
    __tablename__ = "group_member"

    group_id: int = Field(
        sa_column=Column(Integer, ForeignKey("org_unit.id", ondelete="CASCADE"), primary_key=True)
    )
    person_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("person.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    added_at: dt.datetime = Field(default_factory=utcnow)


# SCIM compares employeeNumber and names case-insensitively (caseExact false), as lower(column)
# = lower(value): these indexes serve those lookups (an HR system finds people by number).
Index("ix_person_employee_number_lower", func.lower(Person.__table__.c.employee_number))
Index("ix_person_family_name_lower", func.lower(Person.__table__.c.family_name))


class PersonLanguage(SQLModel, table=True):
    __tablename__ = "person_language"
    __table_args__ = (UniqueConstraint("person_id", "language"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    language: str = Field(sa_type=String(2))
    cefr_level: Cefr | None = Field(default=None, sa_type=String(2))
    certificate_date: dt.date | None = None
    certificate_expires_on: dt.date | None = None


# ---- Inputs of the personnel services (filled from SCIM) ---------------------------------

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
UserName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class EmailIn(BaseModel):
    value: Annotated[str, StringConstraints(max_length=320)]
    type: Annotated[str, StringConstraints(max_length=32)] | None = None
    primary: bool | None = None


class LanguageIn(BaseModel):
    language: LanguageCode
    cefr_level: Cefr | None = None
    certificate_date: dt.date | None = None
    certificate_expires_on: dt.date | None = None

    @model_validator(mode="after")
    def _expiry_after_issue(self) -> Self:
        if (
            self.certificate_date
            and self.certificate_expires_on
            and self.certificate_expires_on < self.certificate_date
        ):
            raise ValueError("a certificate cannot expire before it was issued")
        return self


class PersonIn(BaseModel):
    """Everything a provisioning client sets on a person (a whole replacement)."""

    model_config = ConfigDict(extra="forbid")

    user_name: UserName
    external_id: Annotated[str, StringConstraints(max_length=255)] | None = None
    given_name: Short | None = None
    family_name: Short | None = None
    display_name: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None
    ) = None
    emails: Annotated[list[EmailIn], PField(max_length=20)] = []
    active: bool = True
    title: Short | None = None
    employee_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None
    ) = None
    organization: Short | None = None
    division: Short | None = None
    department: Short | None = None
    manager: str | None = None  # the manager's scim_id
    rank: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None = None
    position: Short | None = None
    level: Level | None = None
    languages: Annotated[list[LanguageIn], PField(max_length=30)] = []


class UnitIn(BaseModel):
    """Everything a provisioning client sets on a unit or cohort (a whole replacement)."""

    model_config = ConfigDict(extra="forbid")

    display_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)
    ]
    external_id: Annotated[str, StringConstraints(max_length=255)] | None = None
    kind: UnitKind = UnitKind.unit
    parent: str | None = None  # the parent unit's scim_id
    members: list[str] = []  # the members' scim_ids


# ---- JSON API schemas ----------------------------------------------------------------------


class UnitRef(BaseModel):
    id: str
    display_name: str
    kind: UnitKind


class PersonRef(BaseModel):
    id: str
    user_name: str
    display_name: str


class LanguageRead(BaseModel):
    language: str
    cefr_level: Cefr | None
    certificate_date: dt.date | None
    certificate_expires_on: dt.date | None
    expired: bool


class PersonSummary(BaseModel):
    id: str
    user_name: str
    display_name: str
    given_name: str | None
    family_name: str | None
    employee_number: str | None
    rank: str | None
    position: str | None
    level: Level | None
    unit: UnitRef | None
    active: bool


class PersonRead(PersonSummary):
    external_id: str | None
    title: str | None
    emails: list[EmailIn]
    organization: str | None
    division: str | None
    department: str | None
    manager: PersonRef | None
    languages: list[LanguageRead]
    groups: list[UnitRef]
    deleted: bool
    created_at: UtcDateTime
    updated_at: UtcDateTime
    deactivated_at: UtcDateTime | None


class PersonPage(BaseModel):
    items: list[PersonSummary]
    total: int
    limit: int
    offset: int


class UnitSummary(UnitRef):
    external_id: str | None
    parent: UnitRef | None
    member_count: int


class UnitRead(UnitSummary):
    children: list[UnitRef]
    members: list[PersonSummary]
    created_at: UtcDateTime
    updated_at: UtcDateTime


class UnitPage(BaseModel):
    items: list[UnitSummary]
    total: int
    limit: int
    offset: int
