"""Wording shared by every syllabus format, so the HTML, PDF, DOCX and Markdown say the same."""

from functools import lru_cache

from babel import Locale

from app.exports.schema import CourseSyllabus, LegalBasisEntry
from app.models.plans import ItemRead, PlanRead

HOURS = (
    ("lecture", "Lecture"),
    ("seminar", "Seminar"),
    ("practical", "Practical"),
    ("self_study", "Self-study"),
    ("contact", "Contact"),
    ("total", "Total"),
)
LEGAL_HEAD = ("Instrument", "Provision", "Link", "Depth", "Hours")


def label(value: object) -> str:
    """`in_service` -> `In service`."""
    text = str(getattr(value, "value", value)).replace("_", " ")
    return text[:1].upper() + text[1:]


@lru_cache
def _languages() -> dict[str, str]:
    return dict(Locale("en").languages)


def language(code: str | None) -> str:
    if not code:
        return "—"
    return f"{_languages().get(code, code)} ({code})"


def instrument(entry: LegalBasisEntry) -> str:
    return f"{entry.instrument_title} ({entry.instrument})"


def provision(entry: LegalBasisEntry) -> str:
    if entry.provision is None:
        return "Whole instrument"
    return f"{entry.number} — {entry.heading}" if entry.heading else str(entry.number)


def legal_row(entry: LegalBasisEntry) -> tuple[str, str, str, str, str]:
    return (
        instrument(entry),
        provision(entry),
        label(entry.kind),
        label(entry.depth),
        str(entry.hours),
    )


def hours_row(c: CourseSyllabus) -> list[str]:
    return [str(getattr(c.hours, key)) for key, _ in HOURS]


def facts(c: CourseSyllabus) -> list[tuple[str, str]]:
    """The header lines of a course: what it is, which version, and its state."""
    rows = [
        ("Code", c.code),
        ("Version", str(c.version)),
        ("Status", label(c.status) + (" (restricted)" if c.restricted else "")),
        ("Last changed", c.updated_at.date().isoformat()),
        ("Domain", label(c.domain)),
        ("Level", label(c.level)),
        ("Credits", f"{c.credits:g}"),
    ]
    return rows


def languages(c: CourseSyllabus) -> list[tuple[str, str]]:
    rows = [("Language of instruction", language(c.language_of_instruction))]
    if c.target_language:
        rows.append(("Target language", language(c.target_language)))
        rows.append(("CEFR level", c.cefr_level or "—"))
    return rows


def outcome(text: str, bloom: object) -> str:
    return f"{text} (Bloom: {label(bloom).lower()})"


def plan_facts(plan: PlanRead) -> list[tuple[str, str]]:
    rows = [
        ("Code", plan.code),
        ("Version", str(plan.version)),
        ("Academic year", plan.academic_year),
        ("Audience", label(plan.audience)),
        ("Status", label(plan.status)),
        ("Terms", str(plan.terms)),
        ("Total contact hours", str(plan.total_hours)),
    ]
    if plan.effective_from:
        rows.append(("Effective from", plan.effective_from.isoformat()))
    if plan.language_target:
        target = plan.language_target
        rows.append(("Language target", f"{language(target.language)}, {target.cefr_level}"))
    return rows


def place(item: ItemRead) -> str:
    """How an item sits in its term: mandatory, or an elective (of a group)."""
    if item.mandatory:
        return "Mandatory"
    return f"Elective ({item.elective_group})" if item.elective_group else "Elective"
