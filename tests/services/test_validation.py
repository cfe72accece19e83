"""Plan validation: one or more worked examples per rule, built from facts (no database)."""

import itertools

import pytest

from app.models.plans import Finding, Severity
from app.services.validation import CourseFacts, ItemFacts, PlanFacts, validate

ERROR, WARNING = Severity.error, Severity.warning
_ids = itertools.count(1)


# --- builders --------------------------------------------------------------------------------------


def course(code: str, hours: int = 20, status: str = "approved", **kw) -> CourseFacts:
    return CourseFacts(code=code, status=status, contact_hours=hours, **kw)


def lang(code: str, level: str, language: str = "en", **kw) -> CourseFacts:
    return course(code, target_language=language, cefr_level=level, **kw)


def covering(code: str, **covers: str) -> CourseFacts:
    """A course linked to instruments: covering("C", echr="teaches assesses")."""
    return course(
        code, covers={instrument: frozenset(kinds.split()) for instrument, kinds in covers.items()}
    )


def item(code: str, term: int = 1, **kw) -> ItemFacts:
    return ItemFacts(id=next(_ids), course=code, term=term, **kw)


def plan(items: list[ItemFacts], courses: list[CourseFacts], **kw) -> PlanFacts:
    """A plan that is clean unless told otherwise: generous budgets, no targets, no required instruments.

    `terms` defaults to the highest term an item sits in, so that no term is empty.
    """
    defaults = dict(
        audience="in_service",
        terms=max((i.term for i in items), default=1),
        term_hour_budget=1000,
        term_budgets={},
        total_hour_budget=None,
        target_language=None,
        target_cefr=None,
        required=[],
        groups={},
    )
    return PlanFacts(**{**defaults, **kw}, items=items, courses={c.code: c for c in courses})


def where(f: Finding) -> tuple:
    return (f.severity, f.rule, f.term, f.course_code, f.instrument_code)


def findings(p: PlanFacts) -> list[tuple]:
    return [where(f) for f in validate(p)]


def of_rule(p: PlanFacts, rule: str) -> list[tuple]:
    return [where(f) for f in validate(p) if f.rule == rule]


# --- a clean plan ----------------------------------------------------------------------------------


def test_clean_plan_has_no_findings():
    p = plan(
        [
            item("LAW-1", 1),
            item("LAW-2", 2),
            item("EN-B1", 1),
            item("EN-B2", 2),
            item("ELEC-A", 2, mandatory=False, group="g"),
            item("ELEC-B", 2, mandatory=False, group="g"),
        ],
        [
            course("LAW-1", 40, covers={"echr": frozenset({"teaches"})}),
            course("LAW-2", 40, prerequisites=("LAW-1",), covers={"echr": frozenset({"assesses"})}),
            lang("EN-B1", "B1"),
            lang("EN-B2", "B2"),
            course("ELEC-A", 10),
            course("ELEC-B", 12),
        ],
        audience="initial",
        terms=2,
        term_hour_budget=100,
        total_hour_budget=150,
        target_language="en",
        target_cefr="B2",
        required=["echr"],
        groups={"g": 1},
    )
    # loads: term 1 = 40 + 20 = 60, term 2 = 40 + 20 + the larger elective 12 = 72; total 132 of 150 (88%)
    assert validate(p) == []


# --- budgets -------------------------------------------------------------------------------------


def test_term_over_budget_names_the_term():
    p = plan([item("A", 1), item("B", 2)], [course("A", 40), course("B", 30)], term_hour_budget=30)
    assert findings(p) == [(ERROR, "term_over_budget", 1, None, None)]


def test_term_load_equal_to_budget_is_fine():
    p = plan([item("A", 1), item("B", 1)], [course("A", 20), course("B", 10)], term_hour_budget=30)
    assert findings(p) == []


def test_term_load_counts_worst_case_of_an_elective_group():
    p = plan(
        [
            item("A", 1),
            item("E1", 1, mandatory=False, group="g"),
            item("E2", 1, mandatory=False, group="g"),
        ],
        [course("A", 10), course("E1", 25), course("E2", 15)],
        term_hour_budget=30,
        groups={"g": 1},
    )
    # 10 + the larger elective (25) = 35 > 30
    assert findings(p) == [(ERROR, "term_over_budget", 1, None, None)]


def test_term_budget_override_is_honoured_both_ways():
    p = plan(
        [item("A", 1), item("B", 2), item("C", 3)],
        [course("A", 40), course("B", 10), course("C", 10)],
        term_hour_budget=30,
        term_budgets={1: 50, 2: 5},
    )
    # term 1: 40 <= 50 (override raised it); term 2: 10 > 5 (override lowered it); term 3: 10 <= 30 (default)
    assert findings(p) == [(ERROR, "term_over_budget", 2, None, None)]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (None, [(ERROR, "term_over_budget", 1, None, None)]),  # 40 + 5 > 30
        (25, []),  # 25 + 5 = 30: the override brings it within budget
        (0, []),  # a zero override is still an override
    ],
)
def test_hour_override_lowers_the_load(override, expected):
    p = plan(
        [item("A", 1, hours_override=override), item("B", 1)],
        [course("A", 40), course("B", 5)],
        term_hour_budget=30,
    )
    assert findings(p) == expected


def test_hour_override_raises_the_load():
    p = plan([item("A", 1, hours_override=35)], [course("A", 20)], term_hour_budget=30)
    assert findings(p) == [(ERROR, "term_over_budget", 1, None, None)]


def test_term_empty_is_a_warning_naming_the_term():
    p = plan([item("A", 1), item("B", 3)], [course("A"), course("B")], terms=3)
    assert findings(p) == [(WARNING, "term_empty", 2, None, None)]


def test_total_over_budget():
    p = plan([item("A", 1), item("B", 2)], [course("A", 30), course("B", 30)], total_hour_budget=50)
    assert findings(p) == [(ERROR, "total_over_budget", None, None, None)]


def test_total_over_budget_respects_hour_overrides():
    courses = [course("A", 30), course("B", 30)]
    assert (
        findings(
            plan([item("A", 1), item("B", 2, hours_override=20)], courses, total_hour_budget=50)
        )
        == []
    )
    assert findings(
        plan([item("A", 1), item("B", 2, hours_override=21)], courses, total_hour_budget=50)
    ) == [(ERROR, "total_over_budget", None, None, None)]


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (79, [(WARNING, "total_under_budget", None, None, None)]),  # under 80%
        (80, []),  # exactly 80% is enough
        (100, []),  # exactly the budget
        (101, [(ERROR, "total_over_budget", None, None, None)]),
    ],
)
def test_total_budget_bounds(hours, expected):
    p = plan([item("A", 1)], [course("A", hours)], total_hour_budget=100)
    assert findings(p) == expected


def test_no_total_budget_means_no_total_findings():
    p = plan([item("A", 1)], [course("A", 1)], total_hour_budget=None)
    assert findings(p) == []


# --- placement -----------------------------------------------------------------------------------


def test_term_out_of_range_names_term_and_course():
    p = plan(
        [item("A", 1), item("B", 2), item("LATE", 3)],
        [course("A"), course("B"), course("LATE", 500)],
        terms=2,
        term_hour_budget=100,
    )
    # the late course's 500 hours are no term's over-budget: term 3 is not a term of the plan
    assert findings(p) == [(ERROR, "term_out_of_range", 3, "LATE", None)]


def test_duplicate_course_names_the_second_placement():
    p = plan([item("A", 1), item("A", 2)], [course("A")])
    assert findings(p) == [(ERROR, "duplicate_course", 2, "A", None)]


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_course_not_approved(status):
    p = plan([item("A", 1), item("B", 2)], [course("A"), course("B", status=status)])
    assert findings(p) == [(ERROR, "course_not_approved", 2, "B", None)]


# --- prerequisites -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("audience", "severity"),
    [("initial", ERROR), ("in_service", WARNING), ("advanced", WARNING), ("command", WARNING)],
)
def test_prerequisite_missing_severity_depends_on_audience(audience, severity):
    p = plan(
        [item("A", 1), item("B", 2)],
        [course("A"), course("B", prerequisites=("GONE",))],
        audience=audience,
    )
    assert findings(p) == [(severity, "prerequisite_missing", 2, "B", None)]


@pytest.mark.parametrize("pre_term", [2, 3], ids=["same term", "later term"])
def test_prerequisite_in_same_or_later_term_is_an_error(pre_term):
    p = plan(
        [item("PRE", pre_term), item("B", 2), item("X", 1), item("Y", 3)],
        [course("PRE"), course("B", prerequisites=("PRE",)), course("X"), course("Y")],
    )
    assert findings(p) == [(ERROR, "prerequisite_order", 2, "B", None)]


def test_prerequisite_in_earlier_term_is_fine():
    p = plan(
        [item("B", 2), item("PRE", 1)],
        [course("PRE"), course("B", prerequisites=("PRE",))],
        audience="initial",
    )
    assert findings(p) == []


# --- required instruments ------------------------------------------------------------------------


def test_required_instrument_not_covered_at_all():
    p = plan([item("A", 1)], [course("A")], required=["echr"])
    assert findings(p) == [
        (ERROR, "required_not_assessed", None, None, "echr"),
        (ERROR, "required_not_taught", None, None, "echr"),
    ]


def test_taught_but_not_assessed():
    p = plan([item("A", 1)], [covering("A", echr="teaches")], required=["echr"])
    assert findings(p) == [(ERROR, "required_not_assessed", None, None, "echr")]


def test_assessed_but_not_taught():
    p = plan([item("A", 1)], [covering("A", echr="assesses")], required=["echr"])
    assert findings(p) == [(ERROR, "required_not_taught", None, None, "echr")]


def test_practises_counts_as_taught():
    p = plan([item("A", 1)], [covering("A", echr="practises assesses")], required=["echr"])
    assert findings(p) == []


def test_references_counts_as_neither_taught_nor_assessed():
    p = plan([item("A", 1)], [covering("A", echr="references")], required=["echr"])
    assert findings(p) == [
        (ERROR, "required_not_assessed", None, None, "echr"),
        (ERROR, "required_not_taught", None, None, "echr"),
    ]


def test_coverage_may_be_split_over_several_mandatory_courses():
    # e.g. one course linked to a provision (teaches), another to the instrument itself (assesses):
    # both arrive in the facts as instrument code -> kinds
    p = plan(
        [item("A", 1), item("B", 2)],
        [covering("A", echr="teaches"), covering("B", echr="assesses")],
        required=["echr"],
    )
    assert findings(p) == []


def test_only_elective_coverage_is_a_warning():
    p = plan(
        [item("A", 1), item("E", 1, mandatory=False, group="g")],
        [course("A"), covering("E", echr="teaches assesses")],
        required=["echr"],
        groups={"g": 1},
    )
    assert findings(p) == [
        (WARNING, "required_only_elective_assessed", None, None, "echr"),
        (WARNING, "required_only_elective_taught", None, None, "echr"),
    ]


def test_free_elective_coverage_is_a_warning_too():
    p = plan(
        [item("A", 1), item("E", 1, mandatory=False)],
        [covering("A", echr="teaches"), covering("E", echr="assesses")],
        required=["echr"],
    )
    assert findings(p) == [(WARNING, "required_only_elective_assessed", None, None, "echr")]


def test_required_findings_are_per_instrument():
    p = plan(
        [item("A", 1)],
        [covering("A", echr="teaches assesses", unodc="teaches")],
        required=["echr", "unodc"],
    )
    assert findings(p) == [(ERROR, "required_not_assessed", None, None, "unodc")]


def test_covering_an_instrument_that_is_not_required_yields_nothing():
    p = plan([item("A", 1)], [covering("A", echr="references")], required=[])
    assert findings(p) == []


# --- languages -----------------------------------------------------------------------------------


def test_cefr_regression_names_the_later_lower_course():
    p = plan([item("EN-B1", 1), item("EN-A2", 2)], [lang("EN-B1", "B1"), lang("EN-A2", "A2")])
    assert findings(p) == [(ERROR, "cefr_regression", 2, "EN-A2", None)]


def test_cefr_regression_against_an_earlier_peak_not_just_the_previous_term():
    p = plan(
        [item("EN-B2", 1), item("EN-A2", 2), item("EN-B1", 3)],
        [lang("EN-B2", "B2"), lang("EN-A2", "A2"), lang("EN-B1", "B1")],
    )
    assert findings(p) == [
        (ERROR, "cefr_regression", 2, "EN-A2", None),
        (ERROR, "cefr_regression", 3, "EN-B1", None),
    ]


def test_same_term_different_levels_is_not_a_regression():
    p = plan([item("EN-B1", 1), item("EN-A2", 1)], [lang("EN-B1", "B1"), lang("EN-A2", "A2")])
    assert findings(p) == []


def test_repeating_a_level_is_not_a_regression():
    p = plan([item("EN-B1", 1), item("EN-B1X", 2)], [lang("EN-B1", "B1"), lang("EN-B1X", "B1")])
    assert findings(p) == []


def test_levels_of_different_languages_are_not_compared():
    p = plan(
        [item("EN-C1", 1), item("FR-A1", 2)],
        [lang("EN-C1", "C1"), lang("FR-A1", "A1", language="fr")],
    )
    assert findings(p) == []


def test_regression_is_caught_when_the_lower_course_comes_first_in_its_term():
    # term 2 holds A2 and B2; A2 is below term 1's B1. Listed before B2, it is caught ...
    p = plan(
        [item("EN-B1", 1), item("EN-A2", 2), item("EN-B2", 2)],
        [lang("EN-B1", "B1"), lang("EN-A2", "A2"), lang("EN-B2", "B2")],
    )
    assert findings(p) == [(ERROR, "cefr_regression", 2, "EN-A2", None)]


def test_regression_is_caught_whatever_the_order_within_the_term():
    # A lower course listed after a higher one of the same term is still compared with term 1.
    p = plan(
        [item("EN-MID", 1), item("EN-ADV", 2), item("EN-BASIC", 2)],
        [lang("EN-MID", "B1"), lang("EN-ADV", "B2"), lang("EN-BASIC", "A2")],
    )
    assert findings(p) == [(ERROR, "cefr_regression", 2, "EN-BASIC", None)]


@pytest.mark.parametrize(
    ("levels", "reached"),
    [(["A2", "B2"], True), (["B2"], True), (["C1"], True), (["A2", "B1"], False), ([], False)],
)
def test_cefr_target(levels, reached):
    courses = [lang(f"EN-{lv}", lv) for lv in levels] + [course("LAW")]
    items = [item(c.code, n) for n, c in enumerate(courses, start=1)]
    p = plan(items, courses, target_language="en", target_cefr="B2")
    assert findings(p) == (
        [] if reached else [(ERROR, "cefr_target_not_reached", None, None, None)]
    )


def test_cefr_target_ignores_other_languages():
    p = plan(
        [item("FR-C1", 1)],
        [lang("FR-C1", "C1", language="fr")],
        target_language="en",
        target_cefr="B1",
    )
    assert findings(p) == [(ERROR, "cefr_target_not_reached", None, None, None)]


def test_cefr_target_message_says_what_was_reached():
    p = plan([item("EN-A2", 1)], [lang("EN-A2", "A2")], target_language="en", target_cefr="B2")
    (found,) = validate(p)
    assert "A2" in found.message and "B2" in found.message
    (none_found,) = validate(
        plan([item("LAW", 1)], [course("LAW")], target_language="en", target_cefr="B2")
    )
    assert "no course" in none_found.message


# --- elective groups -----------------------------------------------------------------------------


def test_elective_group_with_too_few_members():
    p = plan(
        [item("A", 1), item("E1", 1, mandatory=False, group="g")],
        [course("A"), course("E1")],
        groups={"g": 2},
    )
    assert findings(p) == [(ERROR, "elective_group_unsatisfiable", None, None, None)]


def test_elective_group_with_no_members_at_all():
    p = plan([item("A", 1)], [course("A")], groups={"g": 1})
    assert findings(p) == [(ERROR, "elective_group_unsatisfiable", None, None, None)]


def test_elective_group_with_enough_members():
    p = plan(
        [
            item("A", 1),
            item("E1", 1, mandatory=False, group="g"),
            item("E2", 1, mandatory=False, group="g"),
        ],
        [course("A"), course("E1"), course("E2")],
        groups={"g": 2},
    )
    assert findings(p) == []


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_unapproved_members_do_not_count_towards_choose(status):
    p = plan(
        [
            item("A", 1),
            item("E1", 1, mandatory=False, group="g"),
            item("E2", 1, mandatory=False, group="g"),
        ],
        [course("A"), course("E1"), course("E2", status=status)],
        groups={"g": 2},
    )
    # errors without a term sort before errors of term 1
    assert findings(p) == [
        (ERROR, "elective_group_unsatisfiable", None, None, None),
        (ERROR, "course_not_approved", 1, "E2", None),
    ]


def test_each_unsatisfiable_group_is_reported():
    p = plan(
        [item("A", 1), item("E1", 1, mandatory=False, group="g")],
        [course("A"), course("E1")],
        groups={"g": 1, "h": 1, "k": 3},
    )
    found = validate(p)
    assert [where(f) for f in found] == [
        (ERROR, "elective_group_unsatisfiable", None, None, None)
    ] * 2
    assert "h" in found[0].message and "k" in found[1].message


# --- ordering ------------------------------------------------------------------------------------


def test_findings_are_sorted_errors_first_then_by_term():
    p = plan(
        [item("A", 1), item("B", 3, hours_override=50), item("C", 4), item("A", 4)],
        [course("A"), course("B", prerequisites=("GONE",)), course("C", status="draft")],
        audience="in_service",
        terms=4,
        term_hour_budget=40,
        total_hour_budget=1000,
    )
    assert findings(p) == [
        (ERROR, "term_over_budget", 3, None, None),
        (ERROR, "course_not_approved", 4, "C", None),
        (ERROR, "duplicate_course", 4, "A", None),
        (WARNING, "total_under_budget", None, None, None),
        (WARNING, "term_empty", 2, None, None),
        (WARNING, "prerequisite_missing", 3, "B", None),
    ]
