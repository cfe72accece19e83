"""Spreadsheet export and import of courses and instruments (layouts: app/exports/spreadsheets).

An import validates every row before writing anything and reports each row as created, updated,
unchanged or error. A dry run stops there. Otherwise a file with any bad row changes nothing;
a good file is applied through the loader's upserts (audited per entity) in one transaction.
"""

import re
from collections import defaultdict
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from app.errors import Invalid, field_error
from app.exports import spreadsheets as sheet
from app.models.courses import Course, CourseLink
from app.models.files import CourseIn, InstrumentIn, provision_key
from app.models.instruments import Instrument, Provision
from app.services import audit, courses, loader

Outcome = Literal["created", "updated", "unchanged", "error"]
Format = Literal["csv", "xlsx"]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class RowResult(BaseModel):
    row: int
    code: str | None
    outcome: Outcome
    errors: list[dict[str, Any]] = []


class ImportReport(BaseModel):
    kind: Literal["courses", "instruments"]
    format: Format
    dry_run: bool
    applied: bool
    counts: dict[str, int]
    rows: list[RowResult]


class Export(BaseModel):
    content: bytes
    media_type: str
    filename: str


# ---- export -------------------------------------------------------------------------------


def stored_course(session: Session, course: Course) -> dict[str, Any]:
    """A stored course in the shape of a CourseIn (as JSON)."""
    read = courses.detail(session, course)
    doc = read.model_dump(
        mode="json",
        include=set(CourseIn.model_fields) - {"hours", "links"},
    )
    doc["hours"] = read.hours.model_dump(include={"lecture", "seminar", "practical", "self_study"})
    doc["links"] = [
        {"target": lk.target, "kind": lk.kind, "depth": lk.depth, "hours": lk.hours}
        for lk in read.links
    ]
    return doc


def stored_instruments(session: Session, codes: list[str] | None = None) -> dict[str, dict]:
    """Stored instruments (all, or those with these codes) in the shape of an InstrumentIn."""
    code_of = dict(session.exec(select(Instrument.id, Instrument.code)).all())
    stmt = select(Instrument).order_by(Instrument.code)
    if codes is not None:
        stmt = stmt.where(col(Instrument.code).in_(codes))
    return {i.code: loader._stored_instrument_doc(session, i, code_of) for i in session.exec(stmt)}


def _file(kind: str, fmt: Format, columns: list[str], rows: list[dict[str, Any]]) -> Export:
    content = (
        sheet.write_xlsx(kind, columns, rows) if fmt == "xlsx" else sheet.write_csv(columns, rows)
    )
    return Export(
        content=content,
        media_type=MEDIA[fmt],
        filename=f"{kind}-{date.today():%Y%m%d}.{fmt}",
    )


def export_courses(session: Session, *, fmt: Format, public_only: bool) -> Export:
    """Every course the caller may read, one row each, in code order."""
    stmt = select(Course).order_by(Course.code)
    if public_only:
        stmt = stmt.where(courses.public_course())
    rows = [sheet.course_row(stored_course(session, c)) for c in session.exec(stmt)]
    return _file("courses", fmt, sheet.COURSE_COLUMNS, rows)


def export_instruments(session: Session, *, fmt: Format) -> Export:
    """Every instrument, one row per provision, in code and provision order."""
    rows = [r for doc in stored_instruments(session).values() for r in sheet.instrument_rows(doc)]
    return _file("instruments", fmt, sheet.INSTRUMENT_COLUMNS + sheet.PROVISION_COLUMNS, rows)


# ---- shared by the imports ----------------------------------------------------------------


def _table(content: bytes, allowed: list[str]) -> tuple[Format, list[str], list]:
    try:
        fmt, columns, rows = sheet.read_table(content)
    except sheet.FileError as exc:
        raise Invalid(str(exc), errors=[field_error(["file"], str(exc))]) from None
    unknown = [c for c in columns if c not in allowed]
    problems = [field_error(["file", c], "unknown column") for c in unknown]
    if "code" not in columns:
        problems.append(field_error(["file", "code"], "the code column is required"))
    if problems:
        raise Invalid(
            "The columns do not match the layout; start from an export of the same kind.",
            errors=problems,
        )
    return fmt, columns, rows


def validation_errors(exc: ValidationError, column: Any) -> list[dict]:
    """Pydantic errors as field errors, each named by the spreadsheet column at fault."""
    out = []
    for err in exc.errors():
        loc = list(err["loc"])
        out.append(field_error(column(loc) if loc else [], err["msg"], err["type"]))
    return out


def instrument_changes(
    before: dict[str, Any] | None, wanted: dict[str, Any]
) -> tuple[Outcome, dict[str, Outcome], list[str]]:
    """The instrument's outcome, each wanted provision's outcome by key, and keys removed."""
    if before is None:
        return "created", {p["key"]: "created" for p in wanted["provisions"]}, []
    old = {p["key"]: (n, p) for n, p in enumerate(before["provisions"])}
    per: dict[str, Outcome] = {}
    for n, p in enumerate(wanted["provisions"]):
        if p["key"] not in old:
            per[p["key"]] = "created"
        else:
            per[p["key"]] = "unchanged" if old[p["key"]] == (n, p) else "updated"
    removed = [k for k in old if k not in per]
    return ("unchanged" if before == wanted else "updated"), per, removed


def linked_removals(session: Session, code: str, removed: list[str]) -> list[str]:
    """Provisions that would go but that courses still link to: they must stay."""
    if not removed:
        return []
    rows = session.exec(
        select(Provision.code, Course.code)
        .join(CourseLink, col(CourseLink.provision_id) == Provision.id)
        .join(Course, col(Course.id) == CourseLink.course_id)
        .where(col(Provision.code).in_([f"{code}/{k}" for k in removed]))
        .order_by(Provision.code, Course.code)
    ).all()
    by: dict[str, list[str]] = defaultdict(list)
    for pcode, ccode in rows:
        by[pcode].append(ccode)
    return [
        f"provision {p} would be removed, but {', '.join(sorted(set(c)))} link(s) to it"
        for p, c in by.items()
    ]


def reference_problems(session: Session, bundle: loader.Bundle) -> list[str]:
    """The loader's cross-reference checks (codes, prerequisites, targets, cycles) as messages."""
    try:
        loader.check_references(session, bundle)
    except loader.LoadError as exc:
        return exc.problems
    return []


_PROBLEM = re.compile(r"^(course|instrument) (\S+): (?:([\w\[\].]+): )?(.*)$")


def route_problems(problems: list[str], codes: set[str]) -> dict[str, list[dict]]:
    """The loader's messages as field errors by the code they concern."""
    out: dict[str, list[dict]] = defaultdict(list)
    for message in problems:
        match = _PROBLEM.match(message)
        if match and match.group(2) in codes:
            where = match.group(3)
            out[match.group(2)].append(field_error([where] if where else [], match.group(4)))
            continue
        words = message.replace("->", " ").replace(":", " ").split()
        named = [c for c in words if c in codes] or sorted(codes)
        for code in set(named):
            out[code].append(field_error(["prerequisites"], message))
    return out


def finish(
    session: Session,
    *,
    kind: str,
    key: str,
    dry_run: bool,
    failed: bool,
    counts: dict[str, int],
    details: dict[str, Any],
    report: BaseModel,
    apply,
    actor: str,
) -> BaseModel:
    """The end every import shares: report, refuse (422, nothing written) or apply once."""
    if dry_run:
        return report
    if failed:
        raise Invalid(
            f"{counts.get('error', 0)} entr(ies) have errors; nothing was imported.",
            report=report.model_dump(mode="json"),
        )
    try:
        apply()
    except loader.LoadError as exc:  # a check the dry run could not see; nothing is kept
        session.rollback()
        raise Invalid(
            "The import failed; nothing was imported.",
            errors=[field_error([], p) for p in exc.problems],
        ) from None
    audit.record(
        session,
        actor=actor,
        action="import",
        entity=kind,
        key=key[:200],
        after={**details, "counts": counts},
    )
    session.commit()
    report.applied = True
    return report


def count_outcomes(results: list) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in results:
        out[r.outcome] += 1
    return dict(out)


# ---- course import ------------------------------------------------------------------------


def _course_column(loc: list) -> list:
    if loc[0] == "hours" and len(loc) > 1:
        return [f"{loc[1]}_hours"]
    return loc


def import_courses(
    session: Session, content: bytes, *, filename: str, dry_run: bool, actor: str
) -> ImportReport:
    """Create or update courses by code from a sheet; any bad row means nothing is written."""
    fmt, _, rows = _table(content, sheet.COURSE_COLUMNS)
    codes = [sheet.cell_text(cells.get("code")) for _, cells in rows]
    stored = {
        c.code: c
        for c in session.exec(select(Course).where(col(Course.code).in_([c for c in codes if c])))
    }
    results: list[RowResult] = []
    valid: dict[int, CourseIn] = {}
    first_row: dict[str, int] = {}
    for (number, cells), code in zip(rows, codes, strict=True):
        partial, errors = sheet.parse_course(cells)
        base = stored_course(session, stored[code]) if code in stored else {}
        merged = {**base, **partial}
        merged["hours"] = {**base.get("hours", {}), **partial.get("hours", {})}
        for name, empty in courses.NULL_MEANS.items():
            if name in merged and merged[name] is None:
                merged[name] = empty
        if code in first_row:
            errors.append(field_error(["code"], f"also on row {first_row[code]}"))
        elif code:
            first_row[code] = number
        try:
            data = CourseIn.model_validate(merged)
        except ValidationError as exc:
            errors += validation_errors(exc, _course_column)
        else:
            if not errors:
                valid[number] = data
        results.append(RowResult(row=number, code=code, outcome="error", errors=errors))
    bundle = loader.Bundle(courses=list(valid.values()))
    routed = route_problems(reference_problems(session, bundle), set(first_row))
    for result in results:
        result.errors += routed.get(result.code or "", []) if result.row in valid else []
        if result.errors:
            continue
        data = valid[result.row]
        if data.code not in stored:
            result.outcome = "created"
        elif loader._stored_course_doc(session, stored[data.code]) == loader._course_doc(data):
            result.outcome = "unchanged"
        else:
            result.outcome = "updated"
    counts = count_outcomes(results)
    report = ImportReport(
        kind="courses", format=fmt, dry_run=dry_run, applied=False, counts=counts, rows=results
    )
    return finish(
        session,
        kind="courses",
        key=filename or "upload",
        dry_run=dry_run,
        failed="error" in counts,
        counts=counts,
        details={"format": fmt, "file": filename},
        report=report,
        apply=lambda: loader.apply(session, bundle, actor=actor),
        actor=actor,
    )


# ---- instrument import --------------------------------------------------------------------

_PROVISION_FIELD = {"key": "provision_key", "number": "provision_number"}
_PROVISION_FIELD |= {"heading": "provision_heading", "summary": "provision_summary"}


def import_instruments(
    session: Session, content: bytes, *, filename: str, dry_run: bool, actor: str
) -> ImportReport:
    """Create or update instruments (with their provisions) by code; all rows or none."""
    fmt, columns, rows = _table(content, sheet.INSTRUMENT_COLUMNS + sheet.PROVISION_COLUMNS)
    with_provisions = any(c in sheet.PROVISION_COLUMNS for c in columns)
    groups: dict[str, list[tuple[int, dict, dict | None]]] = defaultdict(list)
    results: dict[int, RowResult] = {}
    for number, cells in rows:
        fields, provision, errors = sheet.parse_instrument(cells)
        code = fields.get("code")
        results[number] = RowResult(row=number, code=code, outcome="error", errors=errors)
        if not code:
            results[number].errors.append(field_error(["code"], "every row names its instrument"))
            continue
        groups[code].append((number, fields, provision))
    stored = stored_instruments(session, list(groups))
    valid: dict[str, InstrumentIn] = {}
    provision_rows: dict[str, list[int]] = {}
    for code, members in groups.items():
        first, own, _ = members[0]
        provisions, rows_of, keys = [], [], {}
        for number, fields, provision in members:
            errors = results[number].errors
            for name, value in fields.items():
                if number != first and value not in (None, "", []) and value != own.get(name):
                    errors.append(field_error([name], f"differs from row {first}"))
            if provision is None:
                continue
            try:
                key = provision.get("key") or provision_key(provision.get("number") or "")
            except ValueError as exc:
                errors.append(field_error(["provision_number"], str(exc)))
                continue
            results[number].code = f"{code}/{key}"
            if key in keys:
                errors.append(field_error(["provision_key"], f"also on row {keys[key]}"))
                continue
            keys[key] = number
            provisions.append(provision)
            rows_of.append(number)
        before = stored.get(code)
        merged = {**(before or {}), **own}
        if with_provisions:
            merged["provisions"] = provisions
        else:
            rows_of = []
        try:
            data = InstrumentIn.model_validate(merged)
        except ValidationError as exc:
            for err in exc.errors():
                loc = list(err["loc"])
                if loc[:1] == ["provisions"] and len(loc) > 1 and loc[1] < len(rows_of):
                    target = results[rows_of[loc[1]]]
                    column = [_PROVISION_FIELD.get(str(x), str(x)) for x in loc[2:3]]
                else:
                    target, column = results[first], loc
                target.errors.append(field_error(column, err["msg"], err["type"]))
        else:
            valid[code] = data
            provision_rows[code] = rows_of
    bundle = loader.Bundle(instruments=list(valid.values()))
    routed = route_problems(reference_problems(session, bundle), set(valid))
    for code, data in valid.items():
        members = [m[0] for m in groups[code]]
        results[members[0]].errors += routed.get(code, [])
        wanted = loader.instrument_doc(data)
        outcome, per, removed = instrument_changes(stored.get(code), wanted)
        results[members[0]].errors += [
            field_error(["provision_key"], m) for m in linked_removals(session, code, removed)
        ]
        if any(results[n].errors for n in members):
            continue
        keys = [p["key"] for p in wanted["provisions"]]
        by_row = dict(zip(provision_rows[code], keys, strict=True))
        for n in members:
            key = by_row.get(n)
            results[n].outcome = per[key] if key else outcome
        if outcome == "updated" and all(results[n].outcome == "unchanged" for n in members):
            results[members[0]].outcome = "updated"  # an instrument field, or a removal
    listed = sorted(results.values(), key=lambda r: r.row)
    counts = count_outcomes(listed)
    report = ImportReport(
        kind="instruments", format=fmt, dry_run=dry_run, applied=False, counts=counts, rows=listed
    )
    return finish(
        session,
        kind="instruments",
        key=filename or "upload",
        dry_run=dry_run,
        failed="error" in counts,
        counts=counts,
        details={"format": fmt, "file": filename},
        report=report,
        apply=lambda: loader.apply(session, bundle, actor=actor),
        actor=actor,
    )
