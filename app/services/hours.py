"""Hour arithmetic of plans, kept pure so that it can be property-tested.

- A course's contact hours are lecture + seminar + practical; self-study is counted apart and
  never against a budget.
- An item's hours are its override when it has one, else its course's contact hours.
- A term's load is what the heaviest timetable a student could get in that term costs: every
  mandatory item of the term, plus, for each elective group, its `choose` largest items placed in
  that term. Free electives (optional, in no group) are extra-curricular and not counted.
- The plan total is every mandatory item plus, for each elective group, its `choose` largest items
  over the whole plan.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Slot:
    """One plan item, reduced to what the arithmetic needs."""

    term: int
    hours: int
    mandatory: bool = True
    group: str | None = None
    self_study: int = 0


def contact_hours(lecture: int, seminar: int, practical: int) -> int:
    return lecture + seminar + practical


def item_hours(contact: int, override: int | None) -> int:
    return contact if override is None else override


def _largest(hours: Iterable[int], choose: int) -> int:
    return sum(sorted(hours, reverse=True)[:choose])


def term_loads(slots: Iterable[Slot], groups: dict[str, int], terms: int) -> dict[int, int]:
    """Contact hours per term (1..terms, plus any term an item wrongly sits in)."""
    loads = {t: 0 for t in range(1, terms + 1)}
    grouped: dict[tuple[str, int], list[int]] = defaultdict(list)
    for slot in slots:
        loads.setdefault(slot.term, 0)
        if slot.mandatory:
            loads[slot.term] += slot.hours
        elif slot.group is not None:
            grouped[(slot.group, slot.term)].append(slot.hours)
    for (group, term), hours in grouped.items():
        loads[term] += _largest(hours, groups.get(group, 0))
    return loads


def plan_total(slots: Iterable[Slot], groups: dict[str, int]) -> int:
    """Contact hours of the whole plan."""
    total = 0
    grouped: dict[str, list[int]] = defaultdict(list)
    for slot in slots:
        if slot.mandatory:
            total += slot.hours
        elif slot.group is not None:
            grouped[slot.group].append(slot.hours)
    return total + sum(_largest(hours, groups.get(group, 0)) for group, hours in grouped.items())


def self_study_per_term(slots: Iterable[Slot]) -> dict[int, int]:
    """Self-study of mandatory items per term, reported beside (never inside) contact hours."""
    out: dict[int, int] = defaultdict(int)
    for slot in slots:
        if slot.mandatory:
            out[slot.term] += slot.self_study
    return dict(out)
