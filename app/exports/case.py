"""1EdTech CASE 1.1 (Competencies and Academic Standards Exchange): the registry and the courses.

Two frameworks (CFDocuments) are published:

- the instrument registry: each instrument is a CFItem that isChildOf the document, and each of
  its provisions a CFItem that isChildOf the instrument;
- the academy's courses: each course is a CFItem that isChildOf the document, and each learning
  outcome a CFItem that isChildOf its course. A course's link to an instrument or provision is a
  CFAssociation `isRelatedTo` whose `extensions` keep our link kind, depth and hours.

Identifiers are UUID v5 of our stable codes, so they never change between calls or servers.
CASE forbids null values, so absent optional fields are left out rather than sent as null.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from app.config import get_settings
from app.models.courses import Course, CourseOutcome
from app.models.instruments import Instrument, Provision
from app.services import courses as course_service
from app.services import instruments as instrument_service

CASE_PATH = "/ims/case/v1p1"
# Fixed forever: changing it would change every published identifier.
NAMESPACE = uuid.UUID("6f0c2a52-5a4e-5b7e-9f1c-3d0e8b7a4c21")
REGISTRY, CATALOGUE = "framework:instruments", "framework:courses"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def uid(kind: str, key: str) -> str:
    """The CASE identifier of one of our things, e.g. uid("provision", "iccpr-1966/art-9")."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def stamp(value: datetime | None) -> str:
    value = value or EPOCH
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- the CASE 1.1 JSON shapes (required fields per the information model) -------------------


class _Case(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LinkURI(_Case):
    title: str
    identifier: str
    uri: str


class LinkGenURI(LinkURI):
    targetType: str | None = None


class CFPckgDocument(_Case):
    identifier: str
    uri: str
    creator: str
    title: str
    lastChangeDateTime: str
    publisher: str | None = None
    description: str | None = None
    language: str | None = None
    version: str | None = None
    adoptionStatus: str | None = None
    notes: str | None = None
    frameworkType: str | None = None
    caseVersion: str | None = None
    extensions: dict[str, Any] | None = None


class CFDocument(CFPckgDocument):
    CFPackageURI: LinkURI


class CFPckgItem(_Case):
    identifier: str
    uri: str
    fullStatement: str
    lastChangeDateTime: str
    humanCodingScheme: str | None = None
    abbreviatedStatement: str | None = None
    listEnumeration: str | None = None
    CFItemType: str | None = None
    conceptKeywords: list[str] | None = None
    notes: str | None = None
    language: str | None = None
    extensions: dict[str, Any] | None = None


class CFItem(CFPckgItem):
    CFDocumentURI: LinkURI


class CFPckgAssociation(_Case):
    identifier: str
    uri: str
    associationType: str
    originNodeURI: LinkGenURI
    destinationNodeURI: LinkGenURI
    lastChangeDateTime: str
    sequenceNumber: int | None = None
    notes: str | None = None
    extensions: dict[str, Any] | None = None


class CFAssociation(CFPckgAssociation):
    CFDocumentURI: LinkURI | None = None


class CFPackage(_Case):
    CFDocument: CFPckgDocument
    CFItems: list[CFPckgItem] = []
    CFAssociations: list[CFPckgAssociation] = []


class CFDocumentSet(_Case):
    CFDocuments: list[CFDocument]


class CFAssociationSet(_Case):
    CFItem: CFItem
    CFAssociations: list[CFPckgAssociation]


class CodeMinorField(_Case):
    imsx_codeMinorFieldName: str
    imsx_codeMinorFieldValue: str


class CodeMinor(_Case):
    imsx_codeMinorField: list[CodeMinorField]


class StatusInfo(_Case):
    """The CASE error body (imsx_StatusInfo)."""

    imsx_codeMajor: str = "failure"
    imsx_severity: str = "error"
    imsx_description: str | None = None
    imsx_codeMinor: CodeMinor | None = Field(default=None)


def status_info(description: str, minor: str) -> dict[str, Any]:
    return StatusInfo(
        imsx_description=description,
        imsx_codeMinor=CodeMinor(
            imsx_codeMinorField=[
                CodeMinorField(imsx_codeMinorFieldName="sourcedId", imsx_codeMinorFieldValue=minor)
            ]
        ),
    ).model_dump(exclude_none=True)


# ---- building the frameworks --------------------------------------------------------------


@dataclass
class Framework:
    document: CFPckgDocument
    items: list[CFPckgItem] = field(default_factory=list)
    associations: list[CFPckgAssociation] = field(default_factory=list)


@dataclass
class Published:
    """Both frameworks, indexed by identifier, as one caller may see them."""

    base_url: str
    frameworks: dict[str, Framework] = field(default_factory=dict)
    item_home: dict[str, str] = field(default_factory=dict)  # item id -> document id
    items: dict[str, CFPckgItem] = field(default_factory=dict)
    associations: dict[str, tuple[CFPckgAssociation, str]] = field(default_factory=dict)

    def url(self, kind: str, identifier: str) -> str:
        return f"{self.base_url}{CASE_PATH}/{kind}/{identifier}"

    def document_link(self, doc_id: str) -> LinkURI:
        doc = self.frameworks[doc_id].document
        return LinkURI(title=doc.title, identifier=doc.identifier, uri=doc.uri)

    def document(self, doc_id: str) -> CFDocument:
        doc = self.frameworks[doc_id].document
        return CFDocument(
            **doc.model_dump(),
            CFPackageURI=LinkURI(
                title=doc.title, identifier=doc.identifier, uri=self.url("CFPackages", doc_id)
            ),
        )

    def package(self, doc_id: str) -> CFPackage:
        fw = self.frameworks[doc_id]
        return CFPackage(CFDocument=fw.document, CFItems=fw.items, CFAssociations=fw.associations)

    def item(self, item_id: str) -> CFItem:
        return CFItem(
            **self.items[item_id].model_dump(),
            CFDocumentURI=self.document_link(self.item_home[item_id]),
        )

    def association(self, assoc_id: str) -> CFAssociation:
        assoc, doc_id = self.associations[assoc_id]
        return CFAssociation(**assoc.model_dump(), CFDocumentURI=self.document_link(doc_id))

    def item_associations(self, item_id: str) -> CFAssociationSet:
        related = [
            a
            for a, _ in self.associations.values()
            if item_id in (a.originNodeURI.identifier, a.destinationNodeURI.identifier)
        ]
        return CFAssociationSet(CFItem=self.item(item_id), CFAssociations=related)

    # -- assembly --

    def _add_document(self, key: str, title: str, description: str, changed: datetime) -> str:
        doc_id = uid("document", key)
        s = get_settings()
        self.frameworks[doc_id] = Framework(
            CFPckgDocument(
                identifier=doc_id,
                uri=self.url("CFDocuments", doc_id),
                creator=s.academy_name,
                publisher=s.academy_name,
                title=title,
                description=description,
                lastChangeDateTime=stamp(changed),
                adoptionStatus="Published",
                caseVersion="1.1",
            )
        )
        return doc_id

    def _add_item(self, doc_id: str, item: CFPckgItem) -> None:
        self.frameworks[doc_id].items.append(item)
        self.items[item.identifier] = item
        self.item_home[item.identifier] = doc_id

    def _node(self, identifier: str) -> LinkGenURI:
        if identifier in self.frameworks:
            doc = self.frameworks[identifier].document
            return LinkGenURI(title=doc.title, identifier=identifier, uri=doc.uri)
        item = self.items[identifier]
        return LinkGenURI(
            title=item.abbreviatedStatement or item.fullStatement[:200],
            identifier=identifier,
            uri=item.uri,
        )

    def _associate(
        self,
        doc_id: str,
        origin: str,
        kind: str,
        destination: str,
        changed: str,
        *,
        key: str | None = None,
        sequence: int | None = None,
        notes: str | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        assoc_id = uid("association", key or f"{origin}|{kind}|{destination}")
        assoc = CFPckgAssociation(
            identifier=assoc_id,
            uri=self.url("CFAssociations", assoc_id),
            associationType=kind,
            originNodeURI=self._node(origin),
            destinationNodeURI=self._node(destination),
            lastChangeDateTime=changed,
            sequenceNumber=sequence,
            notes=notes,
            extensions=extensions,
        )
        self.frameworks[doc_id].associations.append(assoc)
        self.associations[assoc_id] = (assoc, doc_id)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "", [])}


def _registry(session: Session, out: Published) -> None:
    rows = list(session.exec(select(Instrument).order_by(Instrument.code)))
    themes = instrument_service.themes_of(session, [i.id for i in rows])
    code_of = {i.id: i.code for i in rows}
    provisions = session.exec(
        select(Provision).order_by(Provision.instrument_id, Provision.position, Provision.code)
    ).all()
    doc_id = out._add_document(
        REGISTRY,
        "Registry of international instruments",
        "International instruments binding on or guiding law enforcement, with their provisions.",
        max((i.updated_at for i in rows), default=EPOCH),
    )
    for n, inst in enumerate(rows, start=1):
        item_id = uid("instrument", inst.code)
        out._add_item(
            doc_id,
            CFPckgItem(
                identifier=item_id,
                uri=out.url("CFItems", item_id),
                fullStatement=inst.title,
                abbreviatedStatement=inst.short_title,
                humanCodingScheme=inst.code,
                CFItemType="Instrument",
                conceptKeywords=themes.get(inst.id) or None,
                notes=inst.summary or None,
                lastChangeDateTime=stamp(inst.updated_at),
                extensions=_clean(
                    {
                        "kind": str(inst.kind),
                        "body": inst.body,
                        "place": inst.place,
                        "adoptedOn": inst.adopted_on.isoformat() if inst.adopted_on else None,
                        "entryIntoForceOn": inst.entry_into_force_on.isoformat()
                        if inst.entry_into_force_on
                        else None,
                        "reference": inst.reference,
                        "sourceUrl": inst.source_url,
                        "aliases": list(inst.aliases or []),
                        "amends": code_of.get(inst.amends_id),
                        "supplements": code_of.get(inst.supplements_id),
                    }
                ),
            ),
        )
        out._associate(doc_id, item_id, "isChildOf", doc_id, stamp(inst.updated_at), sequence=n)
    changed = {i.id: stamp(i.updated_at) for i in rows}
    for p in provisions:
        item_id = uid("provision", p.code)
        parent = uid("instrument", code_of[p.instrument_id])
        out._add_item(
            doc_id,
            CFPckgItem(
                identifier=item_id,
                uri=out.url("CFItems", item_id),
                fullStatement=p.summary or p.heading,
                abbreviatedStatement=p.heading,
                humanCodingScheme=p.number,
                listEnumeration=str(p.position),
                CFItemType="Provision",
                lastChangeDateTime=changed[p.instrument_id],
                extensions={"key": p.code.partition("/")[2], "code": p.code},
            ),
        )
        out._associate(
            doc_id, item_id, "isChildOf", parent, changed[p.instrument_id], sequence=p.position
        )


def _catalogue(session: Session, out: Published, *, public_only: bool) -> None:
    stmt = select(Course).order_by(Course.code)
    if public_only:
        stmt = stmt.where(course_service.public_course())
    rows = list(session.exec(stmt))
    ids = [c.id for c in rows]
    outcomes = session.exec(
        select(CourseOutcome)
        .where(col(CourseOutcome.course_id).in_(ids))
        .order_by(CourseOutcome.course_id, CourseOutcome.position)
    ).all()
    links = course_service.links_of(session, ids)
    doc_id = out._add_document(
        CATALOGUE,
        f"{get_settings().academy_name}: courses and learning outcomes",
        "The academy's courses, their learning outcomes, and the instruments they teach, "
        "practise, assess or reference.",
        max((c.updated_at for c in rows), default=EPOCH),
    )
    by_id = {c.id: c for c in rows}
    for n, course in enumerate(rows, start=1):
        item_id = uid("course", course.code)
        out._add_item(
            doc_id,
            CFPckgItem(
                identifier=item_id,
                uri=out.url("CFItems", item_id),
                fullStatement=course.title,
                humanCodingScheme=course.code,
                CFItemType="Course",
                notes=course.description or None,
                language=course.language_of_instruction,
                lastChangeDateTime=stamp(course.updated_at),
                extensions=_clean(
                    {
                        "domain": str(course.domain),
                        "level": str(course.level),
                        "status": str(course.status),
                        "contactHours": course.contact_hours,
                        "selfStudyHours": course.self_study_hours,
                        "credits": course.credits,
                    }
                ),
            ),
        )
        out._associate(doc_id, item_id, "isChildOf", doc_id, stamp(course.updated_at), sequence=n)
    for o in outcomes:
        course = by_id[o.course_id]
        item_id = uid("outcome", f"{course.code}/{o.position}")
        out._add_item(
            doc_id,
            CFPckgItem(
                identifier=item_id,
                uri=out.url("CFItems", item_id),
                fullStatement=o.text,
                humanCodingScheme=f"{course.code}.{o.position}",
                listEnumeration=str(o.position),
                CFItemType="Learning outcome",
                lastChangeDateTime=stamp(course.updated_at),
                extensions={"bloom": str(o.bloom)},
            ),
        )
        out._associate(
            doc_id,
            item_id,
            "isChildOf",
            uid("course", course.code),
            stamp(course.updated_at),
            sequence=o.position,
        )
    for course in rows:
        for link in links.get(course.id, []):
            target = (
                uid("provision", link.provision)
                if link.provision
                else uid("instrument", link.instrument)
            )
            out._associate(
                doc_id,
                uid("course", course.code),
                "isRelatedTo",
                target,
                stamp(course.updated_at),
                key=f"link|{course.code}|{link.target}|{link.kind}",
                notes=f"{course.code} {link.kind} {link.target} ({link.depth})",
                extensions={
                    "linkKind": str(link.kind),
                    "depth": str(link.depth),
                    "hours": link.hours,
                },
            )


def publish(session: Session, *, base_url: str, public_only: bool) -> Published:
    """Both frameworks as `public_only` callers (or staff) may see them; reads, never writes."""
    out = Published(base_url=base_url.rstrip("/"))
    _registry(session, out)
    _catalogue(session, out, public_only=public_only)
    return out


def registry_id() -> str:
    return uid("document", REGISTRY)


def catalogue_id() -> str:
    return uid("document", CATALOGUE)
