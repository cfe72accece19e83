"""Loading curricula YAML: validate every file first, then upsert by natural key in one transaction."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.models.common import utcnow
from app.models.courses import Course, CoursePrerequisite, CourseUpdate
from app.models.files import CourseFile, CourseIn, InstrumentFile, InstrumentIn, PlanFile, PlanIn
from app.models.instruments import Instrument, InstrumentTheme, Participation, Provision
from app.models.plans import ElectiveGroup, Plan, PlanItem, PlanStatus, PlanTransition, PlanUpdate
from app.services import audit, courses, plan_workflow, plans, search

FILE_KINDS: dict[str, type[BaseModel]] = {
    "instruments": InstrumentFile,
    "courses": CourseFile,
    "plans": PlanFile,
}


class LoadError(Exception):
    """Nothing was written; `problems` names each file, entry and field at fault."""

    def __init__(self, problems: list[str]):
        super().__init__(f"{len(problems)} problem(s) in the curricula files")
        self.problems = problems


@dataclass
class LoadReport:
    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, entity: str, outcome: str) -> None:
        self.counts[entity][outcome] += 1

    def lines(self) -> list[str]:
        return [
            f"{entity}: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(c.items()))
            for entity, c in sorted(self.counts.items())
        ]


@dataclass
class Bundle:
    instruments: list[InstrumentIn] = field(default_factory=list)
    courses: list[CourseIn] = field(default_factory=list)
    plans: list[PlanIn] = field(default_factory=list)


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise LoadError([f"{path}: no such file or folder"])
    return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _entry_name(kind: str, data: Any, index: int) -> str:
    code = None
    if isinstance(data, dict):
        entries = data.get(kind)
        if isinstance(entries, list) and index < len(entries) and isinstance(entries[index], dict):
            code = entries[index].get("code")
    return f"{kind}[{index}]" + (f" ({code})" if code else "")


def read(path: Path) -> Bundle:
    """Parse and validate every YAML file under `path`; raise LoadError listing every problem."""
    bundle, problems = Bundle(), []
    for file in _files(path):
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            problems.append(f"{file}: not valid YAML: {exc}")
            continue
        kinds = [k for k in FILE_KINDS if isinstance(data, dict) and k in data]
        if len(kinds) != 1:
            problems.append(f"{file}: expected one top-level key of: {', '.join(FILE_KINDS)}")
            continue
        kind = kinds[0]
        try:
            parsed = FILE_KINDS[kind].model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = list(err["loc"])
                where = (
                    _entry_name(kind, data, loc[1]) + ": " + ".".join(str(p) for p in loc[2:])
                    if len(loc) >= 2 and loc[0] == kind and isinstance(loc[1], int)
                    else ".".join(str(p) for p in loc)
                )
                problems.append(f"{file}: {where}: {err['msg']}")
            continue
        getattr(bundle, kind).extend(getattr(parsed, kind))
    if problems:
        raise LoadError(problems)
    return bundle


def check_references(session: Session, bundle: Bundle) -> None:
    """Codes are unique and every code the files refer to exists in the files or the database."""
    problems: list[str] = []
    for kind, entries in (("instrument", bundle.instruments), ("course", bundle.courses)):
        seen = Counter(e.code for e in entries)
        problems += [f"{kind} {code}: defined {n} times" for code, n in seen.items() if n > 1]
    instrument_codes = {i.code for i in bundle.instruments} | set(
        session.exec(select(Instrument.code)).all()
    )
    provision_codes = {f"{i.code}/{p.key}" for i in bundle.instruments for p in i.provisions}
    file_instruments = {i.code for i in bundle.instruments}
    provision_codes |= {
        code
        for code, icode in session.exec(
            select(Provision.code, Instrument.code).join(
                Instrument, col(Instrument.id) == Provision.instrument_id
            )
        ).all()
        if icode not in file_instruments
    }
    course_codes = {c.code for c in bundle.courses} | set(session.exec(select(Course.code)).all())
    for i in bundle.instruments:
        for rel in ("amends", "supplements"):
            target = getattr(i, rel)
            if target and target not in instrument_codes:
                problems.append(f"instrument {i.code}: {rel}: unknown instrument {target!r}")
    for c in bundle.courses:
        for n, pre in enumerate(c.prerequisites or []):
            if pre not in course_codes:
                problems.append(f"course {c.code}: prerequisites[{n}]: unknown course {pre!r}")
        contact = c.hours.lecture + c.hours.seminar + c.hours.practical
        seen_links = set()
        for n, link in enumerate(c.links):
            base = link.target.partition("/")[0]
            if base not in instrument_codes:
                problems.append(f"course {c.code}: links[{n}].target: unknown instrument {base!r}")
            elif "/" in link.target and link.target not in provision_codes:
                problems.append(
                    f"course {c.code}: links[{n}].target: unknown provision {link.target!r}"
                )
            if link.hours > contact:
                problems.append(
                    f"course {c.code}: links[{n}].hours: {link.hours} exceeds {contact} contact hours"
                )
            if (link.target, link.kind) in seen_links:
                problems.append(
                    f"course {c.code}: links[{n}]: {link.kind} {link.target} listed twice"
                )
            seen_links.add((link.target, link.kind))
    plan_keys = Counter((p.code, p.version) for p in bundle.plans)
    problems += [
        f"plan {code} v{v}: defined {n} times" for (code, v), n in plan_keys.items() if n > 1
    ]
    for p in bundle.plans:
        for n, item in enumerate(p.items):
            if item.course not in course_codes:
                problems.append(f"plan {p.code}: items[{n}].course: unknown course {item.course!r}")
        for n, code in enumerate(p.required_instruments or []):
            if code not in instrument_codes:
                problems.append(
                    f"plan {p.code}: required_instruments[{n}]: unknown instrument {code!r}"
                )
    problems += _cycles(session, bundle)
    if problems:
        raise LoadError(problems)


def _cycles(session: Session, bundle: Bundle) -> list[str]:
    edges: dict[str, set[str]] = defaultdict(set)
    in_files = {c.code for c in bundle.courses}
    rows = session.exec(
        select(Course.code, CoursePrerequisite.prerequisite_id).join(
            CoursePrerequisite, col(CoursePrerequisite.course_id) == Course.id
        )
    ).all()
    code_of = dict(session.exec(select(Course.id, Course.code)).all())
    for code, pid in rows:
        if code not in in_files:
            edges[code].add(code_of[pid])
    for c in bundle.courses:
        edges[c.code] = set(c.prerequisites or [])
    state: dict[str, int] = {}
    found: list[str] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append(
                    "prerequisite cycle: " + " -> ".join([*trail[trail.index(nxt) :], nxt])
                )
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    return found


# ---- apply -------------------------------------------------------------------------------


def instrument_doc(data: InstrumentIn) -> dict[str, Any]:
    doc = data.model_dump(mode="json")
    doc["themes"] = sorted(doc["themes"])
    doc["participation"] = sorted(doc["participation"], key=lambda p: (p["country"], p["status"]))
    return doc


def _stored_instrument_doc(
    session: Session, inst: Instrument, code_of: dict[int, str]
) -> dict[str, Any]:
    """The stored instrument in the shape of `instrument_doc`, to tell changed from unchanged."""
    provisions = session.exec(
        select(Provision).where(Provision.instrument_id == inst.id).order_by(Provision.position)
    ).all()
    participation = session.exec(
        select(Participation).where(Participation.instrument_id == inst.id)
    ).all()
    themes = session.exec(
        select(InstrumentTheme.theme).where(InstrumentTheme.instrument_id == inst.id)
    ).all()
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    return {
        "code": inst.code,
        "title": inst.title,
        "short_title": inst.short_title,
        "aliases": list(inst.aliases or []),
        "kind": inst.kind,
        "body": inst.body,
        "place": inst.place,
        "adopted_on": iso(inst.adopted_on),
        "entry_into_force_on": iso(inst.entry_into_force_on),
        "reference": inst.reference,
        "themes": sorted(themes),
        "source_url": inst.source_url,
        "summary": inst.summary,
        "amends": code_of.get(inst.amends_id),
        "supplements": code_of.get(inst.supplements_id),
        "participation": sorted(
            (
                {"country": p.country, "status": p.status, "date": iso(p.date)}
                for p in participation
            ),
            key=lambda p: (p["country"], p["status"]),
        ),
        "provisions": [
            {
                "number": p.number,
                "heading": p.heading,
                "summary": p.summary,
                "key": p.code.partition("/")[2],
            }
            for p in provisions
        ],
    }


def _upsert_instrument(
    session: Session, data: InstrumentIn, actor: str, report: LoadReport
) -> None:
    code_of = dict(session.exec(select(Instrument.id, Instrument.code)).all())
    id_of = {v: k for k, v in code_of.items()}
    inst = session.exec(select(Instrument).where(Instrument.code == data.code)).first()
    wanted = instrument_doc(data)
    before = _stored_instrument_doc(session, inst, code_of) if inst else None
    if before == wanted:
        report.add("instruments", "unchanged")
        return
    if inst is None:
        inst = Instrument(
            code=data.code,
            title=data.title,
            short_title=data.short_title,
            kind=data.kind,
            body=data.body,
        )
    else:
        inst.version += 1
        inst.updated_at = utcnow()
    for name in (
        "title",
        "short_title",
        "aliases",
        "kind",
        "body",
        "place",
        "adopted_on",
        "entry_into_force_on",
        "reference",
        "summary",
    ):
        setattr(inst, name, getattr(data, name))
    inst.source_url = str(data.source_url) if data.source_url else None
    inst.amends_id = id_of.get(data.amends) if data.amends else None
    inst.supplements_id = id_of.get(data.supplements) if data.supplements else None
    session.add(inst)
    session.flush()
    session.execute(delete(InstrumentTheme).where(col(InstrumentTheme.instrument_id) == inst.id))
    session.add_all(
        InstrumentTheme(instrument_id=inst.id, theme=t) for t in sorted(set(data.themes))
    )
    session.execute(delete(Participation).where(col(Participation.instrument_id) == inst.id))
    session.add_all(
        Participation(instrument_id=inst.id, country=p.country, status=p.status, date=p.date)
        for p in data.participation
    )
    existing = {
        p.code: p for p in session.exec(select(Provision).where(Provision.instrument_id == inst.id))
    }
    keep = set()
    for pos, p in enumerate(data.provisions, start=1):
        pcode = f"{inst.code}/{p.key}"
        keep.add(pcode)
        row = existing.get(pcode) or Provision(
            instrument_id=inst.id, code=pcode, number=p.number, heading=p.heading
        )
        row.number, row.heading, row.summary, row.position = p.number, p.heading, p.summary, pos
        session.add(row)
    for pcode, row in existing.items():
        if pcode not in keep:
            session.delete(row)
    session.flush()
    search.index(
        session,
        "instrument",
        inst.id,
        " ".join(
            [
                inst.code,
                inst.title,
                inst.short_title,
                inst.body,
                inst.summary,
                *inst.aliases,
                *(f"{p.number} {p.heading}" for p in data.provisions),
            ]
        ),
    )
    audit.record(
        session,
        actor=actor,
        action="create" if before is None else "update",
        entity="instrument",
        key=inst.code,
        before=before,
        after=wanted,
    )
    report.add("instruments", "created" if before is None else "updated")


def _course_doc(course: CourseIn) -> dict[str, Any]:
    doc = course.model_dump(mode="json", exclude={"code", "links", "prerequisites"})
    doc["prerequisites"] = sorted(course.prerequisites or [])
    doc["links"] = sorted(
        (
            {"target": lk.target, "kind": lk.kind.value, "depth": lk.depth.value, "hours": lk.hours}
            for lk in course.links
        ),
        key=lambda lk: (lk["target"], lk["kind"]),
    )
    return doc


def _stored_course_doc(session: Session, course: Course) -> dict[str, Any]:
    read = courses.detail(session, course)
    return _course_doc(
        CourseIn.model_validate(
            {
                **read.model_dump(
                    include={
                        "code",
                        "title",
                        "domain",
                        "level",
                        "status",
                        "restricted",
                        "description",
                        "credits",
                        "language_of_instruction",
                        "target_language",
                        "cefr_level",
                        "outcomes",
                        "topics",
                        "assessment",
                        "references",
                        "prerequisites",
                    }
                ),
                "hours": read.hours.model_dump(
                    include={"lecture", "seminar", "practical", "self_study"}
                ),
                "links": [
                    {"target": lk.target, "kind": lk.kind, "depth": lk.depth, "hours": lk.hours}
                    for lk in read.links
                ],
            }
        )
    )


def _upsert_courses(session: Session, bundle: Bundle, actor: str, report: LoadReport) -> None:
    """Courses in two passes: fields first, then prerequisites and links once every course exists."""
    stored = {
        c.code: c
        for c in session.exec(
            select(Course).where(col(Course.code).in_([d.code for d in bundle.courses]))
        )
    }
    changed: list[tuple[Course, CourseIn, dict[str, Any] | None]] = []
    for data in bundle.courses:
        fields = CourseUpdate.model_validate(
            data.model_dump(exclude={"code", "links", "prerequisites"})
        )
        course = stored.get(data.code)
        if course is None:
            course = Course(code=data.code, title=data.title, domain=data.domain, level=data.level)
            courses._apply(session, course, fields)
            changed.append((course, data, None))
            report.add("courses", "created")
        elif _stored_course_doc(session, course) == _course_doc(data):
            report.add("courses", "unchanged")
        else:
            before = courses.snapshot(session, course)
            courses._bump(session, course, None)
            courses._apply(session, course, fields)
            changed.append((course, data, before))
            report.add("courses", "updated")
    instrument_id = dict(session.exec(select(Instrument.code, Instrument.id)).all())
    provision_id = dict(session.exec(select(Provision.code, Provision.id)).all())
    for course, data, before in changed:
        courses._apply(session, course, CourseUpdate(prerequisites=data.prerequisites or []))
        courses.replace_links(
            session,
            course,
            [
                (
                    instrument_id[lk.target.partition("/")[0]],
                    provision_id[lk.target] if "/" in lk.target else None,
                    lk,
                )
                for lk in data.links
            ],
        )
        courses._reindex(session, course)
        audit.record(
            session,
            actor=actor,
            action="create" if before is None else "update",
            entity="course",
            key=course.code,
            before=before,
            after=courses.snapshot(session, course),
        )


def apply(session: Session, bundle: Bundle, *, actor: str) -> LoadReport:
    """Upsert everything in the bundle; the caller commits (or rolls back) once."""
    report = LoadReport()
    check_references(session, bundle)
    for inst in bundle.instruments:
        _upsert_instrument(session, inst, actor, report)
    # Relations may point forward in file order: set them once all instruments exist.
    id_of = dict(session.exec(select(Instrument.code, Instrument.id)).all())
    for inst in bundle.instruments:
        row = session.exec(select(Instrument).where(Instrument.code == inst.code)).one()
        row.amends_id = id_of.get(inst.amends) if inst.amends else None
        row.supplements_id = id_of.get(inst.supplements) if inst.supplements else None
        session.add(row)
    session.flush()
    _upsert_courses(session, bundle, actor, report)
    session.flush()
    for data in bundle.plans:
        _upsert_plan(session, data, actor, report)
    return report


def _plan_doc(data: PlanIn) -> dict[str, Any]:
    """A file entry in the shape of plans.snapshot, to tell changed from unchanged."""
    doc = data.model_dump(
        mode="json",
        include={
            "code",
            "version",
            "name",
            "description",
            "audience",
            "academic_year",
            "terms",
            "term_hour_budget",
            "term_budgets",
            "total_hour_budget",
            "language_target",
            "status",
            "effective_from",
        },
    )
    doc["description"] = doc["description"] or ""
    doc["term_budgets"] = {str(k): v for k, v in sorted((data.term_budgets or {}).items())}
    doc["required_instruments"] = sorted(data.required_instruments or [])
    doc["elective_groups"] = sorted(
        (g.model_dump(mode="json") for g in data.elective_groups or []), key=lambda g: g["key"]
    )
    doc["items"] = [
        f"{i.course}@{i.term}"
        + ("" if i.mandatory else f"/elective:{i.elective_group or '-'}")
        + (f"/{i.hours}h" if i.hours is not None else "")
        for i in sorted(data.items, key=lambda i: (i.term, i.course))
    ]
    return doc


def _upsert_plan(session: Session, data: PlanIn, actor: str, report: LoadReport) -> None:
    """A plan by (code, version): fields, groups and items as in the file, then its status."""
    plan = session.exec(
        select(Plan).where(Plan.code == data.code, Plan.version == data.version)
    ).first()
    before = plans.snapshot(session, plan) if plan else None
    if before is not None and before == _plan_doc(data):
        report.add("plans", "unchanged")
        return
    fields = PlanUpdate.model_validate(
        data.model_dump(exclude={"code", "version", "status", "items"})
    )
    if plan is None:
        plan = Plan(
            code=data.code,
            version=data.version,
            name=data.name,
            audience=data.audience,
            academic_year=data.academic_year,
            terms=data.terms,
            term_hour_budget=data.term_hour_budget,
        )
        if data.version > 1:
            plan.previous_version_id = session.exec(
                select(Plan.id).where(Plan.code == data.code, Plan.version == data.version - 1)
            ).first()
    else:
        plans.bump(session, plan, None)
    plans._apply(session, plan, fields)
    session.execute(delete(PlanItem).where(col(PlanItem.plan_id) == plan.id))
    group_id = dict(
        session.exec(
            select(ElectiveGroup.key, ElectiveGroup.id).where(ElectiveGroup.plan_id == plan.id)
        ).all()
    )
    course_id = dict(
        session.exec(
            select(Course.code, Course.id).where(
                col(Course.code).in_([i.course for i in data.items])
            )
        ).all()
    )
    session.add_all(
        PlanItem(
            plan_id=plan.id,
            course_id=course_id[i.course],
            term=i.term,
            mandatory=i.mandatory,
            elective_group_id=group_id.get(i.elective_group) if i.elective_group else None,
            hours_override=i.hours,
            override_reason=i.hours_reason if i.hours is not None else None,
        )
        for i in data.items
    )
    if plan.status != data.status:
        session.add(
            PlanTransition(
                plan_id=plan.id,
                action="load",
                from_status=plan.status,
                to_status=data.status.value,
                actor=actor,
                comment="Loaded from curricula files",
            )
        )
        plan.status = data.status
        session.add(plan)
    session.flush()
    if data.status in (PlanStatus.approved, PlanStatus.in_review, PlanStatus.archived):
        result = plan_workflow.validate(session, plan)
        if not result.valid:
            raise LoadError(
                [
                    f"plan {data.code}: status {data.status.value} but validation finds: {f.message}"
                    for f in result.findings
                    if f.severity == "error"
                ]
            )
    audit.record(
        session,
        actor=actor,
        action="create" if before is None else "update",
        entity="plan",
        key=str(plan.id),
        before=before,
        after=plans.snapshot(session, plan),
    )
    report.add("plans", "created" if before is None else "updated")


def load(session: Session, path: Path, *, actor: str = "loader") -> LoadReport:
    """Validate every file under `path`, then apply it all in one transaction, or nothing."""
    bundle = read(path)
    try:
        report = apply(session, bundle, actor=f"{actor}:{path.name}")
        session.commit()
    except Exception:
        session.rollback()
        raise
    return report
