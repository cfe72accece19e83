"""The registry of international instruments, their provisions and states' participation."""

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.common import InstrumentKind, ParticipationStatus, UtcDateTime, utcnow


class Instrument(SQLModel, table=True):
    __tablename__ = "instrument"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_type=String(64), unique=True, index=True)
    title: str = Field(sa_type=String(400))
    short_title: str = Field(sa_type=String(120))
    aliases: list[str] = Field(default_factory=list, sa_type=JSON)
    kind: InstrumentKind = Field(sa_type=String(32), index=True)
    body: str = Field(sa_type=String(200))
    place: str | None = Field(default=None, sa_type=String(120))
    adopted_on: dt.date | None = None
    entry_into_force_on: dt.date | None = None
    reference: str | None = Field(default=None, sa_type=String(120))
    source_url: str | None = Field(default=None, sa_type=String(500))
    summary: str = Field(default="", sa_type=Text)
    amends_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("instrument.id", ondelete="SET NULL"), nullable=True),
    )
    supplements_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("instrument.id", ondelete="SET NULL"), nullable=True),
    )
    version: int = Field(default=1)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class InstrumentTheme(SQLModel, table=True):
    __tablename__ = "instrument_theme"

    instrument_id: int = Field(
        sa_column=Column(Integer, ForeignKey("instrument.id", ondelete="CASCADE"), primary_key=True)
    )
    theme: str = Field(sa_type=String(40), primary_key=True, index=True)


class Provision(SQLModel, table=True):
    __tablename__ = "provision"

    id: int | None = Field(default=None, primary_key=True)
    instrument_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("instrument.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    code: str = Field(sa_type=String(120), unique=True, index=True)
    number: str = Field(sa_type=String(40))
    heading: str = Field(sa_type=String(300))
    summary: str = Field(default="", sa_type=Text)
    position: int = Field(default=0)


class Participation(SQLModel, table=True):
    __tablename__ = "participation"
    __table_args__ = (UniqueConstraint("instrument_id", "country", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    instrument_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("instrument.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    country: str = Field(sa_type=String(2), index=True)
    status: ParticipationStatus = Field(sa_type=String(16))
    date: dt.date | None = None


# ---- API schemas -------------------------------------------------------------------------


class ParticipationRead(BaseModel):
    country: str
    status: ParticipationStatus
    date: dt.date | None


class CoveringCourse(BaseModel):
    course_code: str
    course_title: str
    course_status: str
    kind: str
    depth: str
    hours: int


class ProvisionRead(BaseModel):
    code: str
    number: str
    heading: str
    summary: str
    covered_by: list[CoveringCourse] = []


class InstrumentSummary(BaseModel):
    code: str
    title: str
    short_title: str
    kind: InstrumentKind
    body: str
    adopted_on: dt.date | None
    entry_into_force_on: dt.date | None
    themes: list[str]
    provision_count: int
    course_count: int


class InstrumentRead(BaseModel):
    code: str
    title: str
    short_title: str
    aliases: list[str]
    kind: InstrumentKind
    body: str
    place: str | None
    adopted_on: dt.date | None
    entry_into_force_on: dt.date | None
    reference: str | None
    themes: list[str]
    source_url: str | None
    summary: str
    amends: str | None
    supplements: str | None
    amended_by: list[str]
    supplemented_by: list[str]
    participation: list[ParticipationRead]
    provisions: list[ProvisionRead]
    courses: list[CoveringCourse]
    version: int
    updated_at: UtcDateTime


class InstrumentPage(BaseModel):
    items: list[InstrumentSummary]
    total: int
    limit: int
    offset: int
