"""Vocabularies shared by several domains, and small column helpers."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator


def utcnow() -> datetime:
    """Aware UTC, to the second; SQLModel stores it as UTC on both databases."""
    return datetime.now(UTC).replace(microsecond=0)


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


aware = _as_utc  # a stored timestamp, read back through a raw aggregate, as aware UTC


# A stored timestamp as the API shows it: always with its UTC offset.
UtcDateTime = Annotated[datetime, AfterValidator(_as_utc)]


class Level(StrEnum):
    initial = "initial"
    in_service = "in_service"
    advanced = "advanced"
    command = "command"


class Domain(StrEnum):
    human_rights = "human_rights"
    foreign_languages = "foreign_languages"
    transnational_crime = "transnational_crime"
    criminal_procedure = "criminal_procedure"
    criminal_law = "criminal_law"
    cybercrime = "cybercrime"
    tactics = "tactics"
    forensics = "forensics"
    leadership = "leadership"


class CourseStatus(StrEnum):
    draft = "draft"
    approved = "approved"
    archived = "archived"


class LinkKind(StrEnum):
    teaches = "teaches"
    practises = "practises"
    assesses = "assesses"
    references = "references"


class Depth(StrEnum):
    introduced = "introduced"
    reinforced = "reinforced"
    mastered = "mastered"

    @property
    def rank(self) -> int:
        return list(Depth).index(self)


class Bloom(StrEnum):
    remember = "remember"
    understand = "understand"
    apply = "apply"
    analyse = "analyse"
    evaluate = "evaluate"
    create = "create"


class Cefr(StrEnum):
    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    C1 = "C1"
    C2 = "C2"


class InstrumentKind(StrEnum):
    convention = "convention"
    protocol = "protocol"
    code_of_conduct = "code_of_conduct"
    declaration = "declaration"
    resolution = "resolution"
    agreement = "agreement"
    guidelines = "guidelines"
    principles = "principles"
    recommendation = "recommendation"


class ParticipationStatus(StrEnum):
    signed = "signed"
    ratified = "ratified"
    acceded = "acceded"
    succeeded = "succeeded"
    member = "member"
    accepted = "accepted"
    approved = "approved"


class Theme(StrEnum):
    human_rights = "human_rights"
    police_ethics = "police_ethics"
    use_of_force = "use_of_force"
    detention = "detention"
    torture_prevention = "torture_prevention"
    fair_trial = "fair_trial"
    privacy = "privacy"
    drugs = "drugs"
    terrorism = "terrorism"
    extremism = "extremism"
    aviation_security = "aviation_security"
    nuclear_security = "nuclear_security"
    diplomatic_protection = "diplomatic_protection"
    hostage_taking = "hostage_taking"
    terrorist_financing = "terrorist_financing"
    organised_crime = "organised_crime"
    economic_crime = "economic_crime"
    money_laundering = "money_laundering"
    corruption = "corruption"
    cybercrime = "cybercrime"
    trafficking_in_persons = "trafficking_in_persons"
    migrant_smuggling = "migrant_smuggling"
    firearms = "firearms"
    international_cooperation = "international_cooperation"
    extradition = "extradition"
    mutual_legal_assistance = "mutual_legal_assistance"
    police_training = "police_training"
