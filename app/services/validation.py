"""Plan validation: pure rules over the facts of a plan, each finding structured.

The facts are loaded in a fixed number of queries (services.plans.facts); the rules here touch
no database, so validating a 60-course plan costs the same few queries as a 5-course one.
"""

from dataclasses import dataclass, field

from app.models.common import Cefr, CourseStatus, Level, LinkKind
from app.models.plans import Finding, Severity
from app.services import hours

UNDER_BUDGET_RATIO = 0.8
CEFR_ORDER = {level.value: n for n, level in enumerate(Cefr)}
TAUGHT = {LinkKind.teaches.value, LinkKind.practises.value}
ASSESSED = {LinkKind.assesses.value}


@dataclass(frozen=True)
class CourseFacts:
    code: str
    status: str
    contact_hours: int
    self_study_hours: int = 0
    target_language: str | None = None
    cefr_level: str | None = None
    prerequisites: tuple[str, ...] = ()
    covers: dict[str, frozenset[str]] = field(default_factory=dict)  # instrument code -> link kinds


@dataclass(frozen=True)
class ItemFacts:
    id: int
    course: str
    term: int
    mandatory: bool = True
    group: str | None = None
    hours_override: int | None = None


@dataclass
class PlanFacts:
    audience: str
    terms: int
    term_hour_budget: int
    term_budgets: dict[int, int]
    total_hour_budget: int | None
    target_language: str | None
    target_cefr: str | None
    required: list[str]
    groups: dict[str, int]  # key -> choose
    items: list[ItemFacts]
    courses: dict[str, CourseFacts]

    def budget(self, term: int) -> int:
        return self.term_budgets.get(term, self.term_hour_budget)

    def slots(self) -> list[hours.Slot]:
        return [
            hours.Slot(
                term=i.term,
                hours=hours.item_hours(self.courses[i.course].contact_hours, i.hours_override),
                mandatory=i.mandatory,
                group=i.group,
                self_study=self.courses[i.course].self_study_hours,
            )
            for i in self.items
        ]


def _f(severity: Severity, rule: str, message: str, **where) -> Finding:
    return Finding(severity=severity, rule=rule, message=message, **where)


def validate(p: PlanFacts) -> list[Finding]:
    """Every finding of the plan, errors first, in a stable order."""
    found: list[Finding] = []
    found += _budgets(p)
    found += _placement(p)
    found += _prerequisites(p)
    found += _required_instruments(p)
    found += _languages(p)
    found += _electives(p)
    return sorted(
        found,
        key=lambda f: (
            f.severity != Severity.error,
            f.term or 0,
            f.rule,
            f.course_code or "",
            f.instrument_code or "",
        ),
    )


def _budgets(p: PlanFacts) -> list[Finding]:
    out = []
    slots = p.slots()
    occupied = {item.term for item in p.items}
    for term, load in sorted(hours.term_loads(slots, p.groups, p.terms).items()):
        if term <= p.terms and load > p.budget(term):
            out.append(
                _f(
                    Severity.error,
                    "term_over_budget",
                    f"Term {term} needs {load} contact hours; its budget is {p.budget(term)}.",
                    term=term,
                )
            )
        if term <= p.terms and term not in occupied:
            out.append(
                _f(Severity.warning, "term_empty", f"Term {term} has no courses.", term=term)
            )
    if p.total_hour_budget:
        total = hours.plan_total(slots, p.groups)
        if total > p.total_hour_budget:
            out.append(
                _f(
                    Severity.error,
                    "total_over_budget",
                    f"The plan needs {total} contact hours; its budget is {p.total_hour_budget}.",
                )
            )
        elif total < UNDER_BUDGET_RATIO * p.total_hour_budget:
            out.append(
                _f(
                    Severity.warning,
                    "total_under_budget",
                    f"The plan uses {total} of {p.total_hour_budget} budgeted contact hours "
                    f"(under {int(UNDER_BUDGET_RATIO * 100)}%).",
                )
            )
    return out


def _placement(p: PlanFacts) -> list[Finding]:
    out = []
    seen: dict[str, int] = {}
    for item in p.items:
        course = p.courses[item.course]
        if item.term > p.terms:
            out.append(
                _f(
                    Severity.error,
                    "term_out_of_range",
                    f"{item.course} sits in term {item.term}; the plan has {p.terms} term(s).",
                    term=item.term,
                    course_code=item.course,
                )
            )
        if item.course in seen:
            out.append(
                _f(
                    Severity.error,
                    "duplicate_course",
                    f"{item.course} is in the plan twice (terms {seen[item.course]} and {item.term}).",
                    term=item.term,
                    course_code=item.course,
                )
            )
        seen.setdefault(item.course, item.term)
        if course.status != CourseStatus.approved:
            out.append(
                _f(
                    Severity.error,
                    "course_not_approved",
                    f"{item.course} is {course.status}; only approved courses can be planned.",
                    term=item.term,
                    course_code=item.course,
                )
            )
    return out


def _prerequisites(p: PlanFacts) -> list[Finding]:
    out = []
    term_of: dict[str, int] = {}
    for item in p.items:
        term_of.setdefault(item.course, item.term)
    missing_severity = Severity.error if p.audience == Level.initial else Severity.warning
    for item in p.items:
        for pre in p.courses[item.course].prerequisites:
            if pre not in term_of:
                out.append(
                    _f(
                        missing_severity,
                        "prerequisite_missing",
                        f"{item.course} requires {pre}, which is not in the plan.",
                        term=item.term,
                        course_code=item.course,
                    )
                )
            elif term_of[pre] >= item.term:
                out.append(
                    _f(
                        Severity.error,
                        "prerequisite_order",
                        f"{item.course} (term {item.term}) requires {pre}, placed in term {term_of[pre]}; "
                        "a prerequisite must come in an earlier term.",
                        term=item.term,
                        course_code=item.course,
                    )
                )
    return out


def _required_instruments(p: PlanFacts) -> list[Finding]:
    out = []
    mandatory_kinds: dict[str, set[str]] = {}
    any_kinds: dict[str, set[str]] = {}
    for item in p.items:
        for instrument, kinds in p.courses[item.course].covers.items():
            any_kinds.setdefault(instrument, set()).update(kinds)
            if item.mandatory:
                mandatory_kinds.setdefault(instrument, set()).update(kinds)
    for code in p.required:
        kinds = mandatory_kinds.get(code, set())
        for need, rule, verb in (
            (TAUGHT, "required_not_taught", "taught"),
            (ASSESSED, "required_not_assessed", "assessed"),
        ):
            if kinds & need:
                continue
            if any_kinds.get(code, set()) & need:
                out.append(
                    _f(
                        Severity.warning,
                        rule.replace("not_", "only_elective_"),
                        f"{code} is {verb} only by elective courses.",
                        instrument_code=code,
                    )
                )
            else:
                out.append(
                    _f(
                        Severity.error,
                        rule,
                        f"No mandatory course in the plan has {code} {verb}.",
                        instrument_code=code,
                    )
                )
    return out


def _languages(p: PlanFacts) -> list[Finding]:
    out = []
    by_language: dict[str, list[tuple[int, str, str]]] = {}
    for item in sorted(p.items, key=lambda i: i.term):
        course = p.courses[item.course]
        if course.target_language and course.cefr_level:
            by_language.setdefault(course.target_language, []).append(
                (item.term, course.cefr_level, item.course)
            )
    for language, levels in by_language.items():
        # Each course is compared with the highest level reached in earlier terms only; a term's
        # own levels join that reference once the whole term has been checked.
        earlier: tuple[int, str, str] | None = None
        for term in sorted({t for t, _, _ in levels}):
            in_term = [(t, lv, code) for t, lv, code in levels if t == term]
            for _, level, code in in_term:
                if earlier and CEFR_ORDER[level] < CEFR_ORDER[earlier[1]]:
                    out.append(
                        _f(
                            Severity.error,
                            "cefr_regression",
                            f"{code} ({language.upper()} {level}, term {term}) comes after {earlier[2]} "
                            f"({earlier[1]}, term {earlier[0]}): the level goes down.",
                            term=term,
                            course_code=code,
                        )
                    )
            top = max(in_term, key=lambda x: CEFR_ORDER[x[1]])
            if earlier is None or CEFR_ORDER[top[1]] > CEFR_ORDER[earlier[1]]:
                earlier = top
    if p.target_language and p.target_cefr:
        reached = max(
            (CEFR_ORDER[lv] for _, lv, _ in by_language.get(p.target_language, [])), default=-1
        )
        if reached < CEFR_ORDER[p.target_cefr]:
            got = list(CEFR_ORDER)[reached] if reached >= 0 else "no course"
            out.append(
                _f(
                    Severity.error,
                    "cefr_target_not_reached",
                    f"The plan targets {p.target_language.upper()} {p.target_cefr}; its language courses "
                    f"reach {got}.",
                )
            )
    return out


def _electives(p: PlanFacts) -> list[Finding]:
    out = []
    members: dict[str, set[str]] = {key: set() for key in p.groups}
    for item in p.items:
        if item.group is not None and p.courses[item.course].status == CourseStatus.approved:
            members.setdefault(item.group, set()).add(item.course)
    for key, choose in sorted(p.groups.items()):
        if len(members[key]) < choose:
            out.append(
                _f(
                    Severity.error,
                    "elective_group_unsatisfiable",
                    f"Elective group {key} asks for {choose} course(s) but offers "
                    f"{len(members[key])} approved one(s).",
                )
            )
    return out
