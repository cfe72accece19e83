"""Hour arithmetic: properties of term loads and plan totals, plus a few worked examples.

No database: the functions under test are pure, so hypothesis can drive them directly.
"""

import itertools
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.hours import (
    Slot,
    contact_hours,
    item_hours,
    plan_total,
    self_study_per_term,
    term_loads,
)

SETTINGS = settings(max_examples=200, deadline=None, database=None)
GROUP_KEYS = ("a", "b", "c")


# --- builders --------------------------------------------------------------------------------------


def mandatory(term: int, hours: int, self_study: int = 0) -> Slot:
    return Slot(term=term, hours=hours, mandatory=True, self_study=self_study)


def elective(term: int, hours: int, group: str | None, self_study: int = 0) -> Slot:
    return Slot(term=term, hours=hours, mandatory=False, group=group, self_study=self_study)


def brute_force_largest(hours: list[int], choose: int) -> int:
    """The best `choose` items by trying every combination (small inputs only)."""
    k = min(choose, len(hours))
    return max(sum(combo) for combo in itertools.combinations(hours, k))


# --- strategies ------------------------------------------------------------------------------------

hours_st = st.integers(min_value=0, max_value=200)
terms_st = st.integers(min_value=1, max_value=6)


@st.composite
def slot_st(
    draw, terms: int, groups: tuple[str, ...] = GROUP_KEYS, mandatory_only: bool = False
) -> Slot:
    term = draw(st.integers(min_value=1, max_value=terms))
    hours = draw(hours_st)
    self_study = draw(st.integers(min_value=0, max_value=100))
    if mandatory_only or draw(st.booleans()):
        # A mandatory slot may still name a group; it is mandatory all the same.
        return Slot(
            term=term,
            hours=hours,
            mandatory=True,
            group=draw(st.sampled_from((None, *groups))),
            self_study=self_study,
        )
    return Slot(
        term=term,
        hours=hours,
        mandatory=False,
        group=draw(st.sampled_from((None, *groups))),
        self_study=self_study,
    )


@st.composite
def plan_st(
    draw, with_groups: bool = True, max_slots: int = 12
) -> tuple[list[Slot], dict[str, int], int]:
    """(slots, groups, terms), every slot inside 1..terms."""
    terms = draw(terms_st)
    if with_groups:
        groups = draw(
            st.dictionaries(st.sampled_from(GROUP_KEYS), st.integers(min_value=0, max_value=4))
        )
        slots = draw(st.lists(slot_st(terms), max_size=max_slots))
    else:
        groups = {}
        slots = draw(st.lists(slot_st(terms, groups=(), mandatory_only=True), max_size=max_slots))
    return slots, groups, terms


# --- properties ------------------------------------------------------------------------------------


@SETTINGS
@given(plan_st(with_groups=False))
def test_without_groups_total_is_sum_of_term_loads(case):
    slots, groups, terms = case
    loads = term_loads(slots, groups, terms)
    assert plan_total(slots, groups) == sum(loads.values())
    assert plan_total(slots, groups) == sum(s.hours for s in slots)


@SETTINGS
@given(plan_st())
def test_loads_cover_every_term_and_are_never_negative(case):
    slots, groups, terms = case
    loads = term_loads(slots, groups, terms)
    assert set(loads) == set(range(1, terms + 1))
    assert all(load >= 0 for load in loads.values())


@SETTINGS
@given(plan_st(), st.data())
def test_term_loads_include_a_term_beyond_the_plan(case, data):
    slots, groups, terms = case
    extra = mandatory(terms + data.draw(st.integers(min_value=1, max_value=3)), data.draw(hours_st))
    loads = term_loads([*slots, extra], groups, terms)
    assert set(loads) == set(range(1, terms + 1)) | {extra.term}
    assert loads[extra.term] == extra.hours


@SETTINGS
@given(hours_st, hours_st, hours_st, st.one_of(st.none(), hours_st))
def test_override_replaces_course_hours_exactly(lecture, seminar, practical, override):
    contact = contact_hours(lecture, seminar, practical)
    assert contact == lecture + seminar + practical
    expected = contact if override is None else override
    assert item_hours(contact, override) == expected


def test_zero_override_is_an_override_not_a_missing_one():
    assert item_hours(30, 0) == 0
    assert item_hours(30, None) == 30


@SETTINGS
@given(plan_st(), st.data())
def test_self_study_never_changes_contact_hours(case, data):
    slots, groups, terms = case
    restudied = [
        replace(s, self_study=data.draw(st.integers(min_value=0, max_value=500))) for s in slots
    ]
    assert term_loads(restudied, groups, terms) == term_loads(slots, groups, terms)
    assert plan_total(restudied, groups) == plan_total(slots, groups)


@SETTINGS
@given(plan_st())
def test_self_study_counts_mandatory_items_only(case):
    slots, groups, terms = case
    expected: dict[int, int] = {}
    for s in slots:
        if s.mandatory:
            expected[s.term] = expected.get(s.term, 0) + s.self_study
    assert self_study_per_term(slots) == expected


@SETTINGS
@given(plan_st(), st.data())
def test_adding_a_mandatory_slot_raises_only_its_term(case, data):
    slots, groups, terms = case
    new = mandatory(data.draw(st.integers(min_value=1, max_value=terms)), data.draw(hours_st))
    before = term_loads(slots, groups, terms)
    after = term_loads([*slots, new], groups, terms)
    assert after[new.term] == before[new.term] + new.hours
    assert {t: v for t, v in after.items() if t != new.term} == {
        t: v for t, v in before.items() if t != new.term
    }
    assert plan_total([*slots, new], groups) == plan_total(slots, groups) + new.hours


@SETTINGS
@given(
    st.lists(hours_st, min_size=1, max_size=7),
    st.integers(min_value=0, max_value=9),
    terms_st,
    st.data(),
)
def test_group_counts_its_choose_largest_items(group_hours, choose, terms, data):
    """Over the plan: the best `choose` of the group; within one term: the best `choose` placed there."""
    placed = [
        elective(data.draw(st.integers(min_value=1, max_value=terms)), h, "g") for h in group_hours
    ]
    groups = {"g": choose}
    assert plan_total(placed, groups) == brute_force_largest(group_hours, choose)
    loads = term_loads(placed, groups, terms)
    for term in range(1, terms + 1):
        here = [s.hours for s in placed if s.term == term]
        assert loads[term] == (brute_force_largest(here, choose) if here else 0)


@SETTINGS
@given(plan_st(), st.data())
def test_group_contribution_is_added_on_top_of_mandatory_hours(case, data):
    slots, groups, terms = case
    group_hours = data.draw(st.lists(hours_st, min_size=1, max_size=6))
    choose = data.draw(st.integers(min_value=1, max_value=6))
    # "z" is a fresh group: the existing plan's groups never use it.
    extra = [elective(1, h, "z") for h in group_hours]
    with_group = {**groups, "z": choose}
    assert plan_total([*slots, *extra], with_group) == plan_total(
        slots, groups
    ) + brute_force_largest(group_hours, choose)


@SETTINGS
@given(plan_st())
def test_total_never_exceeds_sum_of_term_worst_cases(case):
    slots, groups, terms = case
    assert plan_total(slots, groups) <= sum(term_loads(slots, groups, terms).values())


@SETTINGS
@given(plan_st(), st.data())
def test_free_electives_count_nowhere(case, data):
    slots, groups, terms = case
    free = data.draw(
        st.lists(
            st.builds(
                elective,
                st.integers(min_value=1, max_value=terms),
                hours_st,
                st.none(),
                st.integers(min_value=0, max_value=100),
            ),
            min_size=1,
            max_size=5,
        )
    )
    assert term_loads([*slots, *free], groups, terms) == term_loads(slots, groups, terms)
    assert plan_total([*slots, *free], groups) == plan_total(slots, groups)
    assert self_study_per_term([*slots, *free]) == self_study_per_term(slots)


@SETTINGS
@given(plan_st(), st.data())
def test_slot_order_does_not_matter(case, data):
    slots, groups, terms = case
    shuffled = data.draw(st.permutations(slots))
    assert term_loads(shuffled, groups, terms) == term_loads(slots, groups, terms)
    assert plan_total(shuffled, groups) == plan_total(slots, groups)


# --- worked examples -------------------------------------------------------------------------------


def test_contact_hours_add_lecture_seminar_and_practical():
    assert contact_hours(12, 8, 4) == 24


def test_worked_example_with_mandatory_group_and_free_items():
    slots = [
        mandatory(1, 30, self_study=20),
        mandatory(1, 10, self_study=5),
        mandatory(2, 25, self_study=15),
        # group "g" (choose 1): 14 and 18 in term 1, 20 in term 2
        elective(1, 14, "g", self_study=99),
        elective(1, 18, "g"),
        elective(2, 20, "g"),
        # group "h" (choose 2): 6, 9, 4 all in term 3
        elective(3, 6, "h"),
        elective(3, 9, "h"),
        elective(3, 4, "h"),
        # a free elective: never counted
        elective(2, 50, None, self_study=40),
    ]
    groups = {"g": 1, "h": 2}
    # term 1: 30 + 10 + max(14, 18) = 58; term 2: 25 + 20 = 45; term 3: 9 + 6 = 15; term 4: nothing
    assert term_loads(slots, groups, 4) == {1: 58, 2: 45, 3: 15, 4: 0}
    # total: 65 mandatory + best one of g over the plan (20) + best two of h (15) = 100
    assert plan_total(slots, groups) == 100
    assert (
        sum(term_loads(slots, groups, 4).values()) == 118
    )  # the per-term worst case overshoots the total
    assert self_study_per_term(slots) == {1: 25, 2: 15}


def test_group_asking_more_than_it_offers_counts_everything_it_offers():
    slots = [elective(1, 10, "g"), elective(1, 7, "g")]
    assert plan_total(slots, {"g": 5}) == 17
    assert term_loads(slots, {"g": 5}, 1) == {1: 17}


def test_group_with_choose_zero_or_no_definition_counts_nothing():
    slots = [elective(1, 10, "g"), elective(1, 7, "unknown")]
    assert plan_total(slots, {"g": 0}) == 0
    assert term_loads(slots, {"g": 0}, 1) == {1: 0}


def test_mandatory_slot_in_a_group_counts_as_mandatory():
    slots = [Slot(term=1, hours=12, mandatory=True, group="g"), elective(1, 30, "g")]
    # choose 0: the elective is not counted, but the mandatory slot always is
    assert plan_total(slots, {"g": 0}) == 12
    assert term_loads(slots, {"g": 0}, 1) == {1: 12}


@pytest.mark.parametrize("terms", [1, 3])
def test_empty_plan_has_zero_everywhere(terms):
    assert term_loads([], {}, terms) == dict.fromkeys(range(1, terms + 1), 0)
    assert plan_total([], {}) == 0
    assert self_study_per_term([]) == {}
