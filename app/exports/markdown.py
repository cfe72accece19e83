"""A course syllabus as CommonMark with GitHub tables: plain, stable, diff-friendly."""

import re

from app.exports import stamp, text
from app.exports.schema import SyllabusDocument

_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
_LINE_START = re.compile(r"^(\s*)([#+\-]|\d+[.)])(?=\s|$)")


def esc(value: str) -> str:
    """Stored text as literal Markdown: no emphasis, links, HTML or table breaks of its own."""
    flat = " ".join(value.split())
    return _LINE_START.sub(r"\1\\\2", _SPECIAL.sub(r"\\\1", flat))


def _table(head: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> list[str]:
    rule = ["---:" if i in numeric else "---" for i in range(len(head))]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(esc(cell) for cell in row) + " |" for row in rows]
    return lines


def _list(items: list[str], numbered: bool = True) -> list[str]:
    return [f"{n}. {item}" if numbered else f"- {item}" for n, item in enumerate(items, start=1)]


def course(doc: SyllabusDocument) -> str:
    c = doc.course
    out = [
        f"# {esc(c.code)} {esc(c.title)}",
        "",
        f"{esc(doc.academy)} — course syllabus. Generated {stamp(doc.generated_at)}.",
        "",
        *_list([f"{name}: {esc(value)}" for name, value in text.facts(c)], numbered=False),
        "",
        "## Aims",
        "",
        esc(c.aims) if c.aims else "—",
        "",
        "## Learning outcomes",
        "",
        *(_list([f"{esc(o.text)} *(Bloom: {o.bloom})*" for o in c.outcomes]) or ["None stated."]),
        "",
        "## Hours",
        "",
        *_table([name for _, name in text.HOURS], [text.hours_row(c)], set(range(6))),
        "",
        "## Topic outline",
        "",
        *(_list([esc(t) for t in c.topics]) or ["None stated."]),
        "",
        "## Prerequisites",
        "",
        ", ".join(c.prerequisites) if c.prerequisites else "None.",
        "",
        "## Legal basis",
        "",
        *(
            _table(list(text.LEGAL_HEAD), [list(text.legal_row(e)) for e in c.legal_basis], {4})
            if c.legal_basis
            else ["No instruments linked."]
        ),
        "",
        "## Assessment",
        "",
        esc(c.assessment) if c.assessment else "—",
        "",
        "## Language",
        "",
        *_list([f"{name}: {esc(value)}" for name, value in text.languages(c)], numbered=False),
        "",
        "## References",
        "",
        *(_list([esc(r) for r in c.references]) or ["None."]),
    ]
    return "\n".join(out) + "\n"
