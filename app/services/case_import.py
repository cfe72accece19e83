"""Importing an instrument framework from a CASE CFPackage (1.0 or 1.1).

Each top-level CFItem (a child of the document, or of nothing) becomes an instrument and its
descendants, depth first in sequence order, become the instrument's provisions. The instrument
code is the item's humanCodingScheme when it is a valid code, else a slug of it or of the title;
an item we published ourselves maps back to the instrument it came from. What CASE does not
carry (participation, relations, dates unless in `extensions`) is kept from the stored instrument.
"""

import re
from collections import defaultdict
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlmodel import Session, select

from app.errors import Invalid, field_error
from app.exports.case import uid
from app.models.common import InstrumentKind, Theme
from app.models.files import INSTRUMENT_CODE, InstrumentIn, provision_key
from app.models.instruments import Instrument
from app.services import loader, spreadsheets
from app.services.spreadsheets import Outcome


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class CaseNode(_Loose):
    identifier: str
    title: str | None = None
    uri: str | None = None


class CaseItem(_Loose):
    identifier: str
    fullStatement: str
    humanCodingScheme: str | None = None
    abbreviatedStatement: str | None = None
    listEnumeration: str | int | None = None
    CFItemType: str | dict[str, Any] | None = None  # 1.0 exports sometimes send an object
    conceptKeywords: list[str] | str | None = None
    notes: str | None = None
    extensions: dict[str, Any] | None = None


class CaseAssociation(_Loose):
    associationType: str
    originNodeURI: CaseNode
    destinationNodeURI: CaseNode
    sequenceNumber: int | str | None = None


class CaseDocument(_Loose):
    identifier: str
    title: str
    creator: str | None = None
    publisher: str | None = None


class CasePackage(_Loose):
    CFDocument: CaseDocument
    CFItems: list[CaseItem] = []
    CFAssociations: list[CaseAssociation] = []


class ItemResult(BaseModel):
    identifier: str
    kind: Literal["instrument", "provision"]
    code: str | None
    outcome: Outcome
    errors: list[dict[str, Any]] = []


class CaseImportReport(BaseModel):
    document: str
    dry_run: bool
    applied: bool
    counts: dict[str, int]
    items: list[ItemResult]


def parse(data: Any) -> CasePackage:
    """A CFPackage document (also accepted wrapped as {"CFPackage": ...}), or Invalid."""
    if isinstance(data, dict) and set(data) == {"CFPackage"}:
        data = data["CFPackage"]
    try:
        return CasePackage.model_validate(data)
    except ValidationError as exc:
        raise Invalid(
            "Not a CASE CFPackage.",
            errors=[field_error(list(e["loc"]), e["msg"], e["type"]) for e in exc.errors()],
        ) from None


def slug(text: str, limit: int = 64) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    words = words[:limit].rstrip("-")
    return words if re.match(r"^[a-z]", words or "") else f"i-{words}"[:limit].rstrip("-")


def _sequence(assoc: CaseAssociation | None, item: CaseItem, n: int) -> tuple:
    seq = assoc.sequenceNumber if assoc else None
    try:
        seq = int(seq) if seq is not None else None
    except ValueError:
        seq = None
    return (seq is None, seq or 0, n)


def _tree(pkg: CasePackage) -> tuple[list[CaseItem], dict[str, list[CaseItem]], list[CaseItem]]:
    """(top-level items, descendants by top item id, items in no tree) from isChildOf links."""
    items = {i.identifier: i for i in pkg.CFItems}
    order = {i.identifier: n for n, i in enumerate(pkg.CFItems)}
    parent: dict[str, tuple[str, CaseAssociation]] = {}
    for a in pkg.CFAssociations:
        is_child = re.sub(r"\W", "", a.associationType).lower() == "ischildof"
        if is_child and a.originNodeURI.identifier in items:
            parent.setdefault(a.originNodeURI.identifier, (a.destinationNodeURI.identifier, a))
    children: dict[str, list[tuple[tuple, CaseItem]]] = defaultdict(list)
    tops = []
    for iid, item in items.items():
        up = parent.get(iid)
        if up is None or up[0] not in items:
            tops.append((_sequence(up[1] if up else None, item, order[iid]), item))
        else:
            children[up[0]].append((_sequence(up[1], item, order[iid]), item))
    below: dict[str, list[CaseItem]] = {}
    seen: set[str] = set()

    def walk(node: str, into: list[CaseItem]) -> None:
        for _, child in sorted(children.get(node, []), key=lambda x: x[0]):
            if child.identifier not in seen:
                seen.add(child.identifier)
                into.append(child)
                walk(child.identifier, into)

    top_items = [item for _, item in sorted(tops, key=lambda x: x[0])]
    for top in top_items:
        seen.add(top.identifier)
        walk(top.identifier, below.setdefault(top.identifier, []))
    stray = [i for i in pkg.CFItems if i.identifier not in seen]  # isChildOf cycles
    return top_items, below, stray


def _item_type(item: CaseItem) -> str | None:
    value = item.CFItemType
    if isinstance(value, dict):
        value = value.get("title") or value.get("typeCode")
    return str(value) if value else None


def _kind(item: CaseItem, ext: dict[str, Any]) -> str | None:
    for candidate in (ext.get("kind"), _item_type(item)):
        if candidate:
            key = re.sub(r"[^a-z]+", "_", str(candidate).lower()).strip("_")
            if key in InstrumentKind.__members__:
                return key
    return None


def _keywords(item: CaseItem) -> list[str]:
    words = item.conceptKeywords or []
    if isinstance(words, str):
        words = [w.strip() for w in re.split(r"[|,;]", words)]
    return [w for w in words if w in Theme.__members__]


def _code(item: CaseItem, known: dict[str, str]) -> str:
    if item.identifier.lower() in known:
        return known[item.identifier.lower()]
    hcs = (item.humanCodingScheme or "").strip()
    if hcs and re.fullmatch(INSTRUMENT_CODE, hcs) and len(hcs) <= 64:
        return hcs
    return slug(hcs or item.abbreviatedStatement or item.fullStatement)


def _provision(item: CaseItem, n: int) -> dict[str, Any]:
    ext = item.extensions or {}
    number = (item.humanCodingScheme or str(item.listEnumeration or "") or str(n)).strip()
    full = item.fullStatement.strip()
    heading = (item.abbreviatedStatement or "").strip() or full
    if len(heading) > 300:
        heading = heading[:299].rstrip() + "…"
    summary = full if full != heading else (item.notes or "").strip()
    out = {"number": number[:40], "heading": heading, "summary": summary}
    if ext.get("key"):
        out["key"] = ext["key"]
    else:
        out["key"] = provision_key(number)
    return out


_EXTENSION_FIELDS = {
    "body": "body",
    "place": "place",
    "adoptedOn": "adopted_on",
    "entryIntoForceOn": "entry_into_force_on",
    "reference": "reference",
    "sourceUrl": "source_url",
    "aliases": "aliases",
    "amends": "amends",
    "supplements": "supplements",
}


def _instrument(
    item: CaseItem,
    below: list[CaseItem],
    code: str,
    before: dict[str, Any] | None,
    doc: CaseDocument,
    defaults: dict[str, Any],
) -> tuple[dict[str, Any], list[dict], dict[str, int]]:
    """The wanted instrument as InstrumentIn data, item errors, and provision index by item id."""
    ext = item.extensions or {}
    base = dict(before or {})
    title = item.fullStatement.strip()
    data = {
        **base,
        "code": code,
        "title": title,
        "short_title": (item.abbreviatedStatement or "").strip()
        or base.get("short_title")
        or title[:120],
        "summary": (item.notes or "").strip()
        if item.notes is not None
        else base.get("summary", ""),
        "kind": _kind(item, ext) or base.get("kind") or defaults.get("kind"),
        "themes": _keywords(item) or base.get("themes") or defaults.get("themes") or [],
        "body": base.get("body") or doc.publisher or doc.creator or "",
    }
    for name, field in _EXTENSION_FIELDS.items():
        if ext.get(name) not in (None, ""):
            data[field] = ext[name]
    errors: list[dict] = []
    if not data["kind"]:
        errors.append(field_error(["CFItemType"], "no instrument kind: name one, or pass ?kind="))
    if not data["themes"]:
        errors.append(field_error(["conceptKeywords"], "no theme among the keywords: pass ?theme="))
    provisions, index = [], {}
    for n, child in enumerate(below, start=1):
        try:
            provisions.append(_provision(child, n))
            index[child.identifier] = len(provisions) - 1
        except ValueError as exc:
            errors.append(field_error(["CFItems", child.identifier], str(exc)))
    data["provisions"] = provisions
    return data, errors, index


def import_package(
    session: Session,
    payload: Any,
    *,
    dry_run: bool,
    actor: str,
    kind: InstrumentKind | None = None,
    theme: Theme | None = None,
) -> CaseImportReport:
    """Add or update an instrument framework from a CFPackage; every item valid, or nothing."""
    pkg = parse(payload)
    tops, below, stray = _tree(pkg)
    known = {
        uid("instrument", c): c for c in session.exec(select(Instrument.code)).all()
    }  # our own identifiers map back to our codes
    codes = {t.identifier: _code(t, known) for t in tops}
    stored = spreadsheets.stored_instruments(session, list(set(codes.values())))
    defaults = {"kind": kind, "themes": [theme] if theme else []}
    results: list[ItemResult] = []
    valid: dict[str, InstrumentIn] = {}
    seen: dict[str, str] = {}
    for top in tops:
        code = codes[top.identifier]
        data, errors, index = _instrument(
            top, below[top.identifier], code, stored.get(code), pkg.CFDocument, defaults
        )
        if code in seen:
            errors.append(field_error(["humanCodingScheme"], f"code {code!r} used twice"))
        seen[code] = top.identifier
        head = ItemResult(
            identifier=top.identifier, kind="instrument", code=code, outcome="error", errors=errors
        )
        subs = {
            cid: ItemResult(
                identifier=cid,
                kind="provision",
                code=f"{code}/{data['provisions'][i]['key']}",
                outcome="error",
            )
            for cid, i in index.items()
        }
        results.append(head)
        results += [subs[c.identifier] for c in below[top.identifier] if c.identifier in subs]
        by_position = {i: subs[cid] for cid, i in index.items()}
        try:
            parsed = InstrumentIn.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = list(err["loc"])
                target = head
                if loc[:1] == ["provisions"] and len(loc) > 1 and loc[1] in by_position:
                    target, loc = by_position[loc[1]], loc[2:]
                target.errors.append(field_error(loc, err["msg"], err["type"]))
            if not head.errors:
                head.errors.append(field_error(["CFItems"], "a provision has errors"))
            continue
        if errors:
            continue
        wanted = loader.instrument_doc(parsed)
        outcome, per, removed = spreadsheets.instrument_changes(stored.get(code), wanted)
        head.errors += [
            field_error(["CFItems"], m)
            for m in spreadsheets.linked_removals(session, code, removed)
        ]
        head.outcome = "error" if head.errors else outcome
        for position, sub in by_position.items():
            sub.outcome = per[wanted["provisions"][position]["key"]]
        if not head.errors:
            valid[code] = parsed
    bundle = loader.Bundle(instruments=list(valid.values()))
    routed = spreadsheets.route_problems(
        spreadsheets.reference_problems(session, bundle), set(valid)
    )
    for result in results:
        if result.kind == "instrument" and routed.get(result.code or ""):
            result.errors += routed[result.code]
            result.outcome = "error"
    for item in stray:
        results.append(
            ItemResult(
                identifier=item.identifier,
                kind="provision",
                code=None,
                outcome="error",
                errors=[field_error(["CFAssociations"], "isChildOf links form a cycle")],
            )
        )
    # A provision of a failed instrument fails with it.
    failed = {r.code for r in results if r.kind == "instrument" and r.outcome == "error"}
    for r in results:
        if r.kind == "provision" and (r.code or "").partition("/")[0] in failed:
            r.outcome = "error"
    if not results:
        raise Invalid("The package holds no CFItems.", errors=[field_error(["CFItems"], "empty")])
    counts = spreadsheets.count_outcomes(results)
    report = CaseImportReport(
        document=pkg.CFDocument.title,
        dry_run=dry_run,
        applied=False,
        counts=counts,
        items=results,
    )
    return spreadsheets.finish(
        session,
        kind="case",
        key=pkg.CFDocument.identifier,
        dry_run=dry_run,
        failed="error" in counts,
        counts=counts,
        details={"document": pkg.CFDocument.title},
        report=report,
        apply=lambda: loader.apply(session, bundle, actor=actor),
        actor=actor,
    )
