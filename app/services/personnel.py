"""People, units and cohorts: provisioning writes, batch loading and the reads the API shows."""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.errors import Conflict, Invalid, NotFound, PreconditionFailed
from app.models.common import utcnow
from app.models.personnel import (
    EmailIn,
    GroupMember,
    LanguageRead,
    OrgUnit,
    Person,
    PersonIn,
    PersonLanguage,
    PersonRead,
    PersonRef,
    PersonSummary,
    UnitIn,
    UnitKind,
    UnitRead,
    UnitRef,
    UnitSummary,
)
from app.services import audit

SCALARS = (
    "user_name",
    "external_id",
    "given_name",
    "family_name",
    "display_name",
    "active",
    "title",
    "employee_number",
    "organization",
    "division",
    "department",
    "rank",
    "position",
    "level",
)


# Family name, then given name, then userName; people without a family name last on both databases.
BY_NAME = (
    col(Person.family_name).is_(None),
    Person.family_name,
    Person.given_name,
    Person.user_name,
    Person.id,
)


def key_of(user_name: str) -> str:
    """userName is unique regardless of case (RFC 7643 §4.1.1: caseExact false)."""
    return user_name.strip().casefold()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# ---- reading ---------------------------------------------------------------------------------


def get_person(session: Session, scim_id: str, *, include_deleted: bool = False) -> Person:
    """The person with this id; deleted people only when asked for (history)."""
    stmt = select(Person).where(Person.scim_id == scim_id)
    if not include_deleted:
        stmt = stmt.where(col(Person.deleted_at).is_(None))
    person = session.exec(stmt).first()
    if person is None:
        raise NotFound(f"No person {scim_id}.")
    return person


def lookup(session: Session, key: str) -> Person:
    """A person by id or by employee number, deprovisioned ones included."""
    column = Person.scim_id if _is_uuid(key) else Person.employee_number
    person = session.exec(select(Person).where(column == key)).first()
    if person is None:
        raise NotFound(f"No person {key}.")
    return person


def get_unit(session: Session, scim_id: str) -> OrgUnit:
    unit = session.exec(
        select(OrgUnit).where(OrgUnit.scim_id == scim_id, col(OrgUnit.deleted_at).is_(None))
    ).first()
    if unit is None:
        raise NotFound(f"No unit or cohort {scim_id}.")
    return unit


@dataclass
class Related:
    """What a page of people refers to, loaded in a fixed number of queries."""

    managers: dict[int, Person] = field(default_factory=dict)
    groups: dict[int, list[OrgUnit]] = field(default_factory=lambda: defaultdict(list))
    languages: dict[int, list[PersonLanguage]] = field(default_factory=lambda: defaultdict(list))
    units: dict[int, OrgUnit] = field(default_factory=dict)


def related(session: Session, people: list[Person]) -> Related:
    """Managers, groups, languages and units of these people: four queries at most."""
    out = Related()
    ids = [p.id for p in people]
    if not ids:
        return out
    # Always the same statements, whatever the page holds, so that the count never varies.
    manager_ids = {p.manager_id for p in people if p.manager_id}
    out.managers = {
        m.id: m
        for m in session.exec(
            select(Person).where(col(Person.id).in_(manager_ids), col(Person.deleted_at).is_(None))
        )
    }
    rows = session.exec(
        select(GroupMember.person_id, OrgUnit)
        .join(OrgUnit, OrgUnit.id == GroupMember.group_id)
        .where(col(GroupMember.person_id).in_(ids), col(OrgUnit.deleted_at).is_(None))
        .order_by(OrgUnit.display_name, OrgUnit.id)
    ).all()
    for person_id, unit in rows:
        out.groups[person_id].append(unit)
    for lang in session.exec(
        select(PersonLanguage)
        .where(col(PersonLanguage.person_id).in_(ids))
        .order_by(PersonLanguage.language)
    ):
        out.languages[lang.person_id].append(lang)
    unit_ids = {p.unit_id for p in people if p.unit_id}
    out.units = {
        u.id: u for u in session.exec(select(OrgUnit).where(col(OrgUnit.id).in_(unit_ids)))
    }
    return out


def members(session: Session, units: list[OrgUnit]) -> dict[int, list[Person]]:
    """The current members of these units, by unit id, in one query."""
    out: dict[int, list[Person]] = defaultdict(list)
    ids = [u.id for u in units]
    if ids:
        for group_id, person in session.exec(
            select(GroupMember.group_id, Person)
            .join(Person, Person.id == GroupMember.person_id)
            .where(col(GroupMember.group_id).in_(ids))
            .order_by(*BY_NAME)
        ).all():
            out[group_id].append(person)
    return out


def list_people(
    session: Session,
    *,
    q: str | None = None,
    unit: str | None = None,
    active: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Person], int]:
    """One page of current people, by family name."""
    stmt = select(Person).where(col(Person.deleted_at).is_(None))
    if q and q.strip():
        for word in q.casefold().split():
            stmt = stmt.where(col(Person.search_text).contains(word, autoescape=True))
    if unit:
        group = select(OrgUnit.id).where(OrgUnit.scim_id == unit).scalar_subquery()
        stmt = stmt.where(
            select(GroupMember.person_id)
            .where(GroupMember.person_id == Person.id, GroupMember.group_id == group)
            .exists()
        )
    if active is not None:
        stmt = stmt.where(Person.active == active)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(*BY_NAME).limit(limit).offset(offset)).all()
    return list(rows), total


def list_units(
    session: Session,
    *,
    q: str | None = None,
    kind: UnitKind | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[UnitSummary], int]:
    """One page of units and cohorts, by name, with their member counts."""
    stmt = select(OrgUnit).where(col(OrgUnit.deleted_at).is_(None))
    if q and q.strip():
        stmt = stmt.where(func.lower(OrgUnit.display_name).contains(q.lower(), autoescape=True))
    if kind:
        stmt = stmt.where(OrgUnit.kind == kind)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    units = session.exec(
        stmt.order_by(OrgUnit.display_name, OrgUnit.id).limit(limit).offset(offset)
    ).all()
    return [unit_summary(u, p, c) for u, p, c in _with_parents(session, list(units))], total


def _with_parents(session: Session, units: list[OrgUnit]):
    ids = [u.id for u in units]
    counts = dict(
        session.exec(
            select(GroupMember.group_id, func.count())
            .where(col(GroupMember.group_id).in_(ids))
            .group_by(GroupMember.group_id)
        ).all()
    )
    found = parents(session, units)
    for u in units:
        yield u, found.get(u.parent_id), counts.get(u.id, 0)


def parents(session: Session, units: list[OrgUnit]) -> dict[int, OrgUnit]:
    """The current parents of these units, by id, in one query."""
    if not units:
        return {}
    ids = {u.parent_id for u in units if u.parent_id}
    stmt = select(OrgUnit).where(col(OrgUnit.id).in_(ids), col(OrgUnit.deleted_at).is_(None))
    return {p.id: p for p in session.exec(stmt)}


# ---- JSON shapes -----------------------------------------------------------------------------


def unit_ref(unit: OrgUnit) -> UnitRef:
    return UnitRef(id=unit.scim_id, display_name=unit.display_name, kind=unit.kind)


def unit_summary(unit: OrgUnit, parent: OrgUnit | None, count: int) -> UnitSummary:
    return UnitSummary(
        **unit_ref(unit).model_dump(),
        external_id=unit.external_id,
        parent=unit_ref(parent) if parent else None,
        member_count=count,
    )


def summary(person: Person, rel: Related) -> PersonSummary:
    unit = rel.units.get(person.unit_id) if person.unit_id else None
    return PersonSummary(
        id=person.scim_id,
        user_name=person.user_name,
        display_name=person.name,
        given_name=person.given_name,
        family_name=person.family_name,
        employee_number=person.employee_number,
        rank=person.rank,
        position=person.position,
        level=person.level,
        unit=unit_ref(unit) if unit and unit.deleted_at is None else None,
        active=person.active,
    )


def language_read(lang: PersonLanguage, today: date | None = None) -> LanguageRead:
    today = today or utcnow().date()
    return LanguageRead(
        language=lang.language,
        cefr_level=lang.cefr_level,
        certificate_date=lang.certificate_date,
        certificate_expires_on=lang.certificate_expires_on,
        expired=bool(lang.certificate_expires_on and lang.certificate_expires_on < today),
    )


def detail(session: Session, person: Person) -> PersonRead:
    rel = related(session, [person])
    manager = rel.managers.get(person.manager_id) if person.manager_id else None
    return PersonRead(
        **summary(person, rel).model_dump(),
        external_id=person.external_id,
        title=person.title,
        emails=[EmailIn.model_validate(e) for e in person.emails],
        organization=person.organization,
        division=person.division,
        department=person.department,
        manager=PersonRef(
            id=manager.scim_id, user_name=manager.user_name, display_name=manager.name
        )
        if manager
        else None,
        languages=[language_read(lang) for lang in rel.languages[person.id]],
        groups=[unit_ref(g) for g in rel.groups[person.id]],
        deleted=person.deleted_at is not None,
        created_at=person.created_at,
        updated_at=person.updated_at,
        deactivated_at=person.deactivated_at,
    )


def unit_detail(session: Session, unit: OrgUnit) -> UnitRead:
    ((_, parent, count),) = _with_parents(session, [unit])
    people = members(session, [unit])[unit.id]
    rel = related(session, people)
    children = session.exec(
        select(OrgUnit)
        .where(OrgUnit.parent_id == unit.id, col(OrgUnit.deleted_at).is_(None))
        .order_by(OrgUnit.display_name)
    ).all()
    return UnitRead(
        **unit_summary(unit, parent, count).model_dump(),
        children=[unit_ref(c) for c in children],
        members=[summary(p, rel) for p in people],
        created_at=unit.created_at,
        updated_at=unit.updated_at,
    )


# ---- people: provisioning ----------------------------------------------------------------------


def _languages_state(langs) -> list[list[str | None]]:
    return [
        [
            lang.language,
            lang.cefr_level,
            lang.certificate_date.isoformat() if lang.certificate_date else None,
            lang.certificate_expires_on.isoformat() if lang.certificate_expires_on else None,
        ]
        for lang in sorted(langs, key=lambda x: x.language)
    ]


def _state(person: Person, languages: list[PersonLanguage], manager: str | None) -> dict:
    """What provisioning set on a person, comparable with `_wanted` and kept in the audit."""
    out: dict[str, Any] = {k: getattr(person, k) for k in SCALARS}
    return out | {
        "emails": list(person.emails),
        "manager": manager,
        "languages": _languages_state(languages),
    }


def _wanted(data: PersonIn) -> dict:
    out: dict[str, Any] = {k: getattr(data, k) for k in SCALARS}
    return out | {
        "emails": [e.model_dump(exclude_none=True) for e in data.emails],
        "manager": data.manager,
        "languages": _languages_state(data.languages),
    }


def check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"The resource is at version {current}, not {expected}: read it again."
        )


def _check_unique(session: Session, data: PersonIn, person_id: int | None) -> None:
    taken = session.exec(
        select(Person.id).where(
            Person.user_name_key == key_of(data.user_name), Person.id != person_id
        )
    ).first()
    if taken is not None:
        raise Conflict(f"The userName {data.user_name!r} is already taken.", field="userName")
    if data.employee_number:
        taken = session.exec(
            select(Person.id).where(
                Person.employee_number == data.employee_number, Person.id != person_id
            )
        ).first()
        if taken is not None:
            raise Conflict(
                f"The employee number {data.employee_number!r} belongs to another person.",
                field="employeeNumber",
            )


def _manager_id(session: Session, data: PersonIn, person: Person | None) -> int | None:
    if not data.manager:
        return None
    manager = session.exec(
        select(Person).where(Person.scim_id == data.manager, col(Person.deleted_at).is_(None))
    ).first()
    if manager is None:
        raise Invalid(f"The manager {data.manager} is not a known person.", field="manager")
    if person is not None and manager.id == person.id:
        raise Invalid("A person cannot be their own manager.", field="manager")
    return manager.id


def _search_text(person: Person) -> str:
    parts = (
        person.user_name,
        person.given_name,
        person.family_name,
        person.display_name,
        person.employee_number,
        person.rank,
        person.position,
    )
    return " ".join(p for p in parts if p).casefold()[:1200]


def _write(session: Session, person: Person, data: PersonIn, manager_id: int | None) -> None:
    now = utcnow()
    was_active = person.active if person.id else True
    for name in SCALARS:
        setattr(person, name, getattr(data, name))
    person.user_name_key = key_of(data.user_name)
    person.emails = [e.model_dump(exclude_none=True) for e in data.emails]
    person.manager_id = manager_id
    person.search_text = _search_text(person)
    if was_active and not person.active:
        person.deactivated_at = now
    elif person.active:
        person.deactivated_at = None
    session.add(person)
    session.flush()
    current = {
        lang.language: lang
        for lang in session.exec(
            select(PersonLanguage).where(PersonLanguage.person_id == person.id)
        )
    }
    wanted = {lang.language: lang for lang in data.languages}
    for code, row in current.items():
        if code not in wanted:
            session.delete(row)
    for code, lang in wanted.items():
        row = current.get(code) or PersonLanguage(person_id=person.id, language=code)
        row.cefr_level = lang.cefr_level
        row.certificate_date = lang.certificate_date
        row.certificate_expires_on = lang.certificate_expires_on
        session.add(row)


def _languages(session: Session, person: Person) -> list[PersonLanguage]:
    return list(session.exec(select(PersonLanguage).where(PersonLanguage.person_id == person.id)))


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError as exc:
        # Two provisioning requests raced for the same userName or employee number.
        session.rollback()
        raise Conflict("The userName or employee number is already taken.") from exc


def create_person(session: Session, data: PersonIn, *, actor: str) -> Person:
    """A new person; userName and employee number must be free."""
    _check_unique(session, data, None)
    manager_id = _manager_id(session, data, None)
    person = Person(user_name=data.user_name)
    if len({lang.language for lang in data.languages}) != len(data.languages):
        raise Invalid("Each language may appear once.", field="languages")
    _write(session, person, data, manager_id)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="person",
        key=person.scim_id,
        after=_wanted(data),
    )
    _commit(session)
    return person


def _manager_scim_id(session: Session, person: Person) -> str | None:
    if not person.manager_id:
        return None
    return session.exec(select(Person.scim_id).where(Person.id == person.manager_id)).first()


def replace_person(
    session: Session, person: Person, data: PersonIn, *, expected: int | None, actor: str
) -> Person:
    """Replace every provisioned field; a change bumps the version, no change keeps it."""
    check_version(person.version, expected)
    _check_unique(session, data, person.id)
    manager_id = _manager_id(session, data, person)
    if len({lang.language for lang in data.languages}) != len(data.languages):
        raise Invalid("Each language may appear once.", field="languages")
    before = _state(person, _languages(session, person), _manager_scim_id(session, person))
    after = _wanted(data)
    if before == after:
        return person
    _write(session, person, data, manager_id)
    person.version += 1
    person.updated_at = utcnow()
    session.add(person)
    action = "deactivate" if before["active"] and not data.active else "update"
    audit.record(
        session,
        actor=actor,
        action=action,
        entity="person",
        key=person.scim_id,
        before=before,
        after=after,
    )
    _commit(session)
    return person


def delete_person(session: Session, person: Person, *, expected: int | None, actor: str) -> None:
    """Deprovision: inactive, hidden from SCIM, out of every group; the row and history stay."""
    check_version(person.version, expected)
    now = utcnow()
    groups = session.exec(
        select(OrgUnit)
        .join(GroupMember, GroupMember.group_id == OrgUnit.id)
        .where(GroupMember.person_id == person.id)
    ).all()
    session.execute(delete(GroupMember).where(col(GroupMember.person_id) == person.id))
    for group in groups:
        group.version += 1
        group.updated_at = now
        session.add(group)
    if person.active:
        person.deactivated_at = now
    person.active = False
    person.deleted_at = now
    person.user_name_key = None  # a new person may take the userName
    person.version += 1
    person.updated_at = now
    session.add(person)
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity="person",
        key=person.scim_id,
        before={"user_name": person.user_name, "groups": sorted(g.scim_id for g in groups)},
    )
    session.commit()


# ---- units and cohorts -------------------------------------------------------------------------


def _parent_id(session: Session, data: UnitIn, unit: OrgUnit | None) -> int | None:
    if not data.parent:
        return None
    parent = session.exec(
        select(OrgUnit).where(OrgUnit.scim_id == data.parent, col(OrgUnit.deleted_at).is_(None))
    ).first()
    if parent is None:
        raise Invalid(f"The parent {data.parent} is not a known unit.", field="parent")
    seen, node = set(), parent
    while node is not None and unit is not None:
        if node.id == unit.id:
            raise Invalid("A unit cannot be inside itself.", field="parent")
        if node.id in seen or node.parent_id is None:
            break
        seen.add(node.id)
        node = session.get(OrgUnit, node.parent_id)
    return parent.id


def _member_ids(session: Session, data: UnitIn) -> dict[int, str]:
    wanted = set(data.members)
    if not wanted:
        return {}
    found = dict(
        session.exec(
            select(Person.id, Person.scim_id).where(
                col(Person.scim_id).in_(wanted), col(Person.deleted_at).is_(None)
            )
        ).all()
    )
    unknown = wanted - set(found.values())
    if unknown:
        raise Invalid(f"Unknown members: {', '.join(sorted(unknown)[:10])}.", field="members")
    return found


def _set_members(session: Session, unit: OrgUnit, wanted: dict[int, str]) -> tuple[set, set]:
    current = set(
        session.exec(select(GroupMember.person_id).where(GroupMember.group_id == unit.id)).all()
    )
    added, removed = set(wanted) - current, current - set(wanted)
    now = utcnow()
    if removed:
        session.execute(
            delete(GroupMember).where(
                GroupMember.group_id == unit.id, col(GroupMember.person_id).in_(removed)
            )
        )
        session.execute(
            update(Person)
            .where(col(Person.id).in_(removed), Person.unit_id == unit.id)
            .values(unit_id=None)
        )
    for person_id in added:
        session.add(GroupMember(group_id=unit.id, person_id=person_id, added_at=now))
    if added and unit.kind == UnitKind.unit:
        # Joining a unit moves the person there; cohorts come on top of the unit.
        session.execute(update(Person).where(col(Person.id).in_(added)).values(unit_id=unit.id))
    if added or removed:
        # The groups a user is in are part of that user's representation (and ETag).
        session.execute(
            update(Person)
            .where(col(Person.id).in_(added | removed))
            .values(version=Person.version + 1, updated_at=now)
        )
    return added, removed


def _unit_snapshot(unit: OrgUnit, parent: str | None) -> dict[str, Any]:
    return {
        "display_name": unit.display_name,
        "external_id": unit.external_id,
        "kind": str(unit.kind),
        "parent": parent,
    }


def create_unit(session: Session, data: UnitIn, *, actor: str) -> OrgUnit:
    """A new unit or cohort with its first members."""
    parent_id = _parent_id(session, data, None)
    wanted = _member_ids(session, data)
    unit = OrgUnit(
        display_name=data.display_name,
        external_id=data.external_id,
        kind=data.kind,
        parent_id=parent_id,
    )
    session.add(unit)
    session.flush()
    _set_members(session, unit, wanted)
    after = _unit_snapshot(unit, data.parent) | {"members": sorted(wanted.values())}
    audit.record(
        session, actor=actor, action="create", entity="unit", key=unit.scim_id, after=after
    )
    session.commit()
    return unit


def replace_unit(
    session: Session, unit: OrgUnit, data: UnitIn, *, expected: int | None, actor: str
) -> OrgUnit:
    """Replace name, parent and members; the kind never changes after creation."""
    check_version(unit.version, expected)
    if data.kind != unit.kind:
        raise Invalid("The kind of a unit cannot change.", field="kind")
    parent_id = _parent_id(session, data, unit)
    wanted = _member_ids(session, data)
    parent = session.get(OrgUnit, unit.parent_id) if unit.parent_id else None
    before = _unit_snapshot(unit, parent.scim_id if parent else None)
    unit.display_name, unit.external_id, unit.parent_id = (
        data.display_name,
        data.external_id,
        parent_id,
    )
    after = _unit_snapshot(unit, data.parent)
    added, removed = _set_members(session, unit, wanted)
    if before == after and not added and not removed:
        return unit
    names = dict(
        session.exec(select(Person.id, Person.scim_id).where(col(Person.id).in_(removed))).all()
    )
    before["members_removed"] = sorted(names.values())
    after["members_added"] = sorted(wanted[i] for i in added)
    unit.version += 1
    unit.updated_at = utcnow()
    session.add(unit)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="unit",
        key=unit.scim_id,
        before=before,
        after=after,
    )
    session.commit()
    return unit


def delete_unit(session: Session, unit: OrgUnit, *, expected: int | None, actor: str) -> None:
    """Hide the unit, empty it and detach its children; the row stays for history."""
    check_version(unit.version, expected)
    _set_members(session, unit, {})
    session.execute(update(OrgUnit).where(col(OrgUnit.parent_id) == unit.id).values(parent_id=None))
    unit.deleted_at = utcnow()
    unit.version += 1
    session.add(unit)
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity="unit",
        key=unit.scim_id,
        before=_unit_snapshot(unit, None),
    )
    session.commit()
