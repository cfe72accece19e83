"""SCIM filters (RFC 7644 §3.4.2.2) and sortBy, translated to SQL for Users and Groups.

scim2-models parses and validates the filter against the resource model (a syntax error or an
unknown attribute is `invalidFilter`); this module walks the tree and emits one WHERE clause, so
that the database, not Python, selects the page. Attributes the planner does not store compare as
unassigned: `nickName pr` matches nobody and `not (nickName pr)` everybody.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from scim2_models import InvalidFilterException, InvalidValueException, ScimFilter
from scim2_models.path import (
    AttributeBinding,
    AttrPath,
    CompareOperator,
    Comparison,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
    coerce_value,
)
from sqlalchemy import Boolean, and_, cast, false, func, not_, null, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from app.models.personnel import GroupMember, OrgUnit, Person, PersonLanguage

Clause = ColumnElement[bool]
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ACADEMY_USER = "urn:police-planner:params:scim:schemas:extension:academy:2.0:User"
ACADEMY_GROUP = "urn:police-planner:params:scim:schemas:extension:academy:2.0:Group"


@dataclass(frozen=True)
class Multi:
    """A multi-valued attribute: rows of a correlated source, one per value."""

    exists: Callable[[bool, Callable[[dict[str, Any]], Clause]], Clause]


@dataclass(frozen=True)
class Target:
    """How one resource type maps onto the database."""

    singles: dict[str, Callable[[], Any]]  # URN of the attribute -> column expression
    multis: dict[str, Multi]  # URN of the multi-valued attribute -> its rows
    folded: frozenset[str] = frozenset()  # stored casefolded (compare with the folded value)
    dates: frozenset[str] = frozenset()  # SCIM strings that hold an ISO date


def _emails(pg: bool, where: Callable[[dict[str, Any]], Clause]) -> Clause:
    if pg:
        elem = func.json_array_elements(Person.emails).table_valued("value").alias("email")
        cols = {k: elem.c.value.op("->>")(k) for k in ("value", "type", "display")} | {
            "primary": cast(elem.c.value.op("->>")("primary"), Boolean)
        }
    else:
        elem = func.json_each(Person.emails).table_valued("value").alias("email")
        cols = {k: func.json_extract(elem.c.value, f"$.{k}") for k in ("value", "type", "display")}
        cols["primary"] = func.json_extract(elem.c.value, "$.primary")
    return select(1).select_from(elem).where(where(cols)).exists()


def _groups(pg: bool, where: Callable[[dict[str, Any]], Clause]) -> Clause:
    cols = {"value": OrgUnit.scim_id, "display": OrgUnit.display_name, "type": null()}
    return (
        select(1)
        .select_from(GroupMember)
        .join(OrgUnit, OrgUnit.id == GroupMember.group_id)
        .where(GroupMember.person_id == Person.id, OrgUnit.deleted_at.is_(None), where(cols))
        .exists()
    )


def _languages(pg: bool, where: Callable[[dict[str, Any]], Clause]) -> Clause:
    cols = {
        "value": PersonLanguage.language,
        "cefrLevel": PersonLanguage.cefr_level,
        "certificateDate": PersonLanguage.certificate_date,
        "certificateExpiresOn": PersonLanguage.certificate_expires_on,
    }
    return select(1).where(PersonLanguage.person_id == Person.id, where(cols)).exists()


def _members(pg: bool, where: Callable[[dict[str, Any]], Clause]) -> Clause:
    member = Person.__table__.alias("member")
    cols = {"value": member.c.scim_id, "display": member.c.display_name, "type": null()}
    return (
        select(1)
        .select_from(GroupMember)
        .join(member, member.c.id == GroupMember.person_id)
        .where(GroupMember.group_id == OrgUnit.id, member.c.deleted_at.is_(None), where(cols))
        .exists()
    )


def _manager(column: str) -> Callable[[], Any]:
    def expr():
        boss = Person.__table__.alias("boss")
        return (
            select(boss.c[column])
            .where(boss.c.id == Person.manager_id, boss.c.deleted_at.is_(None))
            .scalar_subquery()
        )

    return expr


def _parent():
    up = OrgUnit.__table__.alias("parent_unit")
    return (
        select(up.c.scim_id)
        .where(up.c.id == OrgUnit.parent_id, up.c.deleted_at.is_(None))
        .scalar_subquery()
    )


USERS = Target(
    singles={
        f"{CORE_USER}:id": lambda: Person.scim_id,
        f"{CORE_USER}:externalId": lambda: Person.external_id,
        f"{CORE_USER}:userName": lambda: Person.user_name_key,
        f"{CORE_USER}:name.givenName": lambda: Person.given_name,
        f"{CORE_USER}:name.familyName": lambda: Person.family_name,
        f"{CORE_USER}:displayName": lambda: Person.display_name,
        f"{CORE_USER}:title": lambda: Person.title,
        f"{CORE_USER}:active": lambda: Person.active,
        f"{CORE_USER}:meta.created": lambda: Person.created_at,
        f"{CORE_USER}:meta.lastModified": lambda: Person.updated_at,
        f"{ENTERPRISE}:employeeNumber": lambda: Person.employee_number,
        f"{ENTERPRISE}:organization": lambda: Person.organization,
        f"{ENTERPRISE}:division": lambda: Person.division,
        f"{ENTERPRISE}:department": lambda: Person.department,
        f"{ENTERPRISE}:manager.value": _manager("scim_id"),
        f"{ENTERPRISE}:manager.displayName": _manager("display_name"),
        f"{ACADEMY_USER}:rank": lambda: Person.rank,
        f"{ACADEMY_USER}:position": lambda: Person.position,
        f"{ACADEMY_USER}:level": lambda: Person.level,
    },
    multis={
        f"{CORE_USER}:emails": Multi(_emails),
        f"{CORE_USER}:groups": Multi(_groups),
        f"{ACADEMY_USER}:languages": Multi(_languages),
    },
    folded=frozenset({f"{CORE_USER}:userName"}),
    dates=frozenset(
        {
            f"{ACADEMY_USER}:languages.certificateDate",
            f"{ACADEMY_USER}:languages.certificateExpiresOn",
        }
    ),
)

GROUPS = Target(
    singles={
        f"{CORE_GROUP}:id": lambda: OrgUnit.scim_id,
        f"{CORE_GROUP}:externalId": lambda: OrgUnit.external_id,
        f"{CORE_GROUP}:displayName": lambda: OrgUnit.display_name,
        f"{CORE_GROUP}:meta.created": lambda: OrgUnit.created_at,
        f"{CORE_GROUP}:meta.lastModified": lambda: OrgUnit.updated_at,
        f"{ACADEMY_GROUP}:kind": lambda: OrgUnit.kind,
        f"{ACADEMY_GROUP}:parent.value": _parent,
    },
    multis={f"{CORE_GROUP}:members": Multi(_members)},
)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def compare(expr: Any, op: CompareOperator, value: Any, *, fold: str | None) -> Clause:
    """One comparison with SCIM's two-valued logic: an unassigned value equals only null.

    `fold` is "lower" for case-insensitive strings, "key" for a column stored casefolded.
    """
    if value is None:
        if op == CompareOperator.eq:
            return expr.is_(None)
        if op == CompareOperator.ne:
            return expr.is_not(None)
        return false()
    left, right = expr, value
    if isinstance(value, str):
        right = str(value)
        if fold == "lower":
            left, right = func.lower(expr), right.lower()
        elif fold == "key":
            right = right.casefold()
    assigned = expr.is_not(None)
    match op:
        case CompareOperator.eq:
            return and_(assigned, left == right)
        case CompareOperator.ne:
            return or_(expr.is_(None), left != right)
        case CompareOperator.co:
            return and_(assigned, left.like(f"%{_like(right)}%", escape="\\"))
        case CompareOperator.sw:
            return and_(assigned, left.like(f"{_like(right)}%", escape="\\"))
        case CompareOperator.ew:
            return and_(assigned, left.like(f"%{_like(right)}", escape="\\"))
        case CompareOperator.gt:
            return and_(assigned, left > right)
        case CompareOperator.ge:
            return and_(assigned, left >= right)
        case CompareOperator.lt:
            return and_(assigned, left < right)
        case _:
            return and_(assigned, left <= right)


def _present(expr: Any, binding: AttributeBinding) -> Clause:
    """Assigned, and not the empty string (RFC 7644 §3.4.2.2 `pr`)."""
    if expr is None:
        return false()
    if binding.target_type in (bool, datetime, date, int, float):
        return expr.is_not(None)
    return and_(expr.is_not(None), expr != "")


class _ToSql(FilterVisitor[Clause]):
    def __init__(self, target: Target, bound: ScimFilter, pg: bool, within=None):
        self.target, self.bound, self.pg = target, bound, pg
        self.within = within  # (AttrPath of the multi-valued attribute, its columns)

    # -- resolution

    def _binding(self, path: AttrPath, *, comparison: bool) -> AttributeBinding:
        if self.within is not None:
            head = self.within[0]
            path = AttrPath(attr=head.attr, sub_attr=path.attr, uri=head.uri)
        resolve = self.bound.resolve_comparison if comparison else self.bound.resolve
        return resolve(path)

    def _urn(self, binding: AttributeBinding) -> tuple[str, str | None]:
        """(URN of the head attribute, sub-attribute SCIM name)."""
        urn = binding.urn
        if binding.sub_field_name is None:
            return urn, None
        head, _, sub = urn.rpartition(".")
        return head, sub

    def _fold(self, urn: str, binding: AttributeBinding) -> str | None:
        if urn in self.target.folded:
            return "key"
        if binding.case_exact or binding.target_type in (bool, datetime, int, float):
            return None
        return "lower"

    def _value(self, binding: AttributeBinding, urn: str, node: Comparison) -> Any:
        value = coerce_value(binding, node.value, node.op)
        if urn in self.target.dates and isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise InvalidFilterException(
                    detail=f"{value!r} is not a date (YYYY-MM-DD)"
                ) from None
        return value

    # -- nodes

    def visit_logical_expr(self, node: LogicalExpr) -> Clause:
        terms = [self.visit(t) for t in node.terms]
        return and_(*terms) if node.op == LogicalOperator.and_ else or_(*terms)

    def visit_not(self, node: Not) -> Clause:
        return not_(self.visit(node.expr))

    def visit_comparison(self, node: Comparison) -> Clause:
        binding = self._binding(node.attr_path, comparison=True)
        head, sub = self._urn(binding)
        full = f"{head}.{sub}" if sub else head
        value = self._value(binding, full, node)
        fold = self._fold(full, binding)
        if self.within is not None:
            return compare(self.within[1].get(sub, null()), node.op, value, fold=fold)
        if binding.is_multivalued:
            multi = self.target.multis.get(head)
            if multi is None:
                return true() if node.op == CompareOperator.ne else false()
            if node.op == CompareOperator.ne:
                # No value equals the operand (the reading scim2-models' evaluator takes).
                eq = CompareOperator.eq
                return not_(
                    multi.exists(
                        self.pg, lambda c: compare(c.get(sub, null()), eq, value, fold=fold)
                    )
                )
            return multi.exists(
                self.pg, lambda c: compare(c.get(sub, null()), node.op, value, fold=fold)
            )
        column = self.target.singles.get(full)
        return compare(column() if column else null(), node.op, value, fold=fold)

    def visit_present(self, node: Present) -> Clause:
        binding = self._binding(node.attr_path, comparison=False)
        head, sub = self._urn(binding)
        if self.within is not None:
            return _present(self.within[1].get(sub), binding)
        if binding.is_multivalued:
            multi = self.target.multis.get(head)
            if multi is None:
                return false()
            return multi.exists(self.pg, lambda c: _present(c.get(sub), binding) if sub else true())
        full = f"{head}.{sub}" if sub else head
        if full in self.target.singles:
            return _present(self.target.singles[full](), binding)
        parts = [f for key, f in self.target.singles.items() if key.startswith(full + ".")]
        if full.endswith(":meta"):
            return true()
        return or_(*[_present(f(), binding) for f in parts]) if parts else false()

    def visit_value_path(self, node: ValuePath) -> Clause:
        binding = self.bound.resolve(node.attr_path)
        multi = self.target.multis.get(binding.urn)
        if multi is None:
            return false()

        def inner(cols: dict[str, Any]) -> Clause:
            return _ToSql(self.target, self.bound, self.pg, (node.attr_path, cols)).visit(
                node.val_filter
            )

        return multi.exists(self.pg, inner)


def where(target: Target, scim_filter: ScimFilter, *, pg: bool) -> Clause:
    """The SQL condition selecting the resources `scim_filter` (bound to its model) matches."""
    return _ToSql(target, scim_filter, pg).visit(scim_filter.ast)


def order_by(target: Target, binding: AttributeBinding | None, descending: bool) -> list[Any]:
    """ORDER BY for sortBy: unassigned values last when ascending (RFC 7644 §3.4.2.3)."""
    if binding is None:
        return []
    if binding.is_multivalued:
        raise InvalidValueException(detail="Sorting by a multi-valued attribute is not supported.")
    column = target.singles.get(binding.urn)
    if column is None:
        return []
    expr = column()
    key = func.lower(expr) if binding.target_type is str and not binding.case_exact else expr
    if binding.urn in target.folded:
        key = expr
    missing = expr.is_(None)
    return [missing.desc(), key.desc()] if descending else [missing, key]
