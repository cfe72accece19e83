"""The shape of the shipped YAML data files (curricula/), validated before anything is written."""

import datetime as dt
import re
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, model_validator

from app.models.common import InstrumentKind, ParticipationStatus, Theme
from app.models.courses import CourseCode, CourseCreate, LinkIn
from app.models.plans import PlanCreate, PlanStatus, Term

INSTRUMENT_CODE = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]


def provision_key(number: str) -> str:
    """'Art. 5' -> 'art-5', 'Art. 3(1)' -> 'art-3-1', 'Principle 9' -> 'principle-9'."""
    key = re.sub(r"[^a-z0-9]+", "-", number.lower().replace("art.", "art ")).strip("-")
    if not key:
        raise ValueError(f"cannot derive a provision key from {number!r}")
    return key


class ProvisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    heading: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    summary: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""
    key: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]*$")] | None = None

    @model_validator(mode="after")
    def _derive_key(self) -> Self:
        if self.key is None:
            self.key = provision_key(self.number)
        return self


class ParticipationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    status: ParticipationStatus
    date: dt.date | None = None


class InstrumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(pattern=INSTRUMENT_CODE, max_length=64)]
    title: Name
    short_title: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)
    ]
    aliases: list[Name] = []
    kind: InstrumentKind
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    place: Annotated[str, StringConstraints(max_length=120)] | None = None
    adopted_on: dt.date | None = None
    entry_into_force_on: dt.date | None = None
    reference: Annotated[str, StringConstraints(max_length=120)] | None = None
    themes: Annotated[list[Theme], Field(min_length=1)]
    source_url: HttpUrl | None = None
    summary: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""
    amends: str | None = None
    supplements: str | None = None
    participation: list[ParticipationIn] = []
    provisions: list[ProvisionIn] = []

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (
            self.adopted_on
            and self.entry_into_force_on
            and self.entry_into_force_on < self.adopted_on
        ):
            raise ValueError("entry_into_force_on is before adopted_on")
        keys = [p.key for p in self.provisions]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"provision(s) listed twice: {', '.join(dupes)}")
        if self.code in (self.amends, self.supplements):
            raise ValueError("an instrument cannot amend or supplement itself")
        return self


class CourseIn(CourseCreate):
    links: list[LinkIn] = []


class InstrumentFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    instruments: list[InstrumentIn]


class CourseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    courses: list[CourseIn]


class PlanItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    course: CourseCode
    term: Term
    mandatory: bool = True
    elective_group: str | None = None
    hours: Annotated[int, Field(ge=0, le=2000)] | None = None
    hours_reason: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None
    ) = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.elective_group is not None:
            self.mandatory = False
        if self.hours is not None and not self.hours_reason:
            raise ValueError("an hour override needs hours_reason")
        return self


class PlanIn(PlanCreate):
    code: Annotated[str, StringConstraints(pattern=INSTRUMENT_CODE, max_length=64)]
    version: Annotated[int, Field(ge=1)] = 1
    status: PlanStatus = PlanStatus.draft
    items: list[PlanItemIn] = []

    @model_validator(mode="after")
    def _items_fit(self) -> Self:
        groups = {g.key for g in self.elective_groups or []}
        for n, item in enumerate(self.items):
            if item.term > self.terms:
                raise ValueError(
                    f"items[{n}] ({item.course}) sits in term {item.term} of {self.terms}"
                )
            if item.elective_group is not None and item.elective_group not in groups:
                raise ValueError(
                    f"items[{n}] ({item.course}) names unknown elective group {item.elective_group!r}"
                )
        return self


class PlanFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plans: list[PlanIn]
