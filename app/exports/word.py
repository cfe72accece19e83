"""Syllabi and plan books as Word documents: Heading 1/2 styles, real tables, page numbers."""

import io
import zipfile

import docx
from docx.document import Document as WordDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from app.exports import stamp, text
from app.exports.matrix import cell_text, chunks, grid
from app.exports.schema import CourseSyllabus, PlanBookDocument, SyllabusDocument

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed member dates: the one timestamp is in docProps/core.xml


def _new(title: str, academy: str, running: str, generated_at) -> WordDocument:
    d = docx.Document()
    section = d.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(20))
    d.styles["Normal"].font.size = Pt(10)
    props = d.core_properties
    props.title, props.author, props.subject = title, academy, running
    props.last_modified_by, props.revision, props.comments = "Police Curriculum Planner", 1, ""
    props.created = props.modified = generated_at.replace(tzinfo=None)
    section.header.paragraphs[0].text = f"{academy} · {running}"
    footer = section.footer.paragraphs[0]
    footer.add_run("Page ")
    _field(footer, "PAGE")
    footer.add_run(" of ")
    _field(footer, "NUMPAGES")
    return d


def _field(paragraph, instruction: str) -> None:
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    value = OxmlElement("w:t")
    value.text = "1"
    run.append(value)
    field.append(run)
    paragraph._p.append(field)


def _save(d: WordDocument) -> bytes:
    """The .docx bytes, with fixed zip member dates so equal documents are equal bytes."""
    raw = io.BytesIO()
    d.save(raw)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(raw) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            member.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(member, src.read(info.filename))
    return out.getvalue()


def _table(d: WordDocument, head: list[str], rows: list[list[str]]) -> None:
    table = d.add_table(rows=1, cols=len(head))
    table.style = "Table Grid"
    for cell, value in zip(table.rows[0].cells, head, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(value).bold = True
    header = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header.append(repeat)  # the header row repeats on every page the table spans
    for row in rows:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            cell.text = value


def _facts(d: WordDocument, rows: list[tuple[str, str]]) -> None:
    for name, value in rows:
        p = d.add_paragraph()
        p.paragraph_format.space_after = Pt(0)
        p.add_run(f"{name}: ").bold = True
        p.add_run(value)


def _items(d: WordDocument, items: list[str], empty: str, numbered: bool = True) -> None:
    if not items:
        d.add_paragraph(empty)
    for n, item in enumerate(items, start=1):
        d.add_paragraph(f"{n}. {item}" if numbered else item, style="List Paragraph")


def course_section(d: WordDocument, c: CourseSyllabus, level: int = 1) -> None:
    d.add_heading(f"{c.code} {c.title}", level)
    _facts(d, text.facts(c))
    sub = level + 1
    d.add_heading("Aims", sub)
    d.add_paragraph(c.aims or "—")
    d.add_heading("Learning outcomes", sub)
    _items(d, [text.outcome(o.text, o.bloom) for o in c.outcomes], "None stated.")
    d.add_heading("Hours", sub)
    _table(d, [name for _, name in text.HOURS], [text.hours_row(c)])
    d.add_heading("Topic outline", sub)
    _items(d, c.topics, "None stated.")
    d.add_heading("Prerequisites", sub)
    d.add_paragraph(", ".join(c.prerequisites) or "None.")
    d.add_heading("Legal basis", sub)
    if c.legal_basis:
        _table(d, list(text.LEGAL_HEAD), [list(text.legal_row(e)) for e in c.legal_basis])
    else:
        d.add_paragraph("No instruments linked.")
    d.add_heading("Assessment", sub)
    d.add_paragraph(c.assessment or "—")
    d.add_heading("Language", sub)
    _facts(d, text.languages(c))
    d.add_heading("References", sub)
    _items(d, c.references, "None.")


def course(doc: SyllabusDocument) -> bytes:
    c = doc.course
    d = _new(f"{c.code} {c.title} — syllabus", doc.academy, c.code, doc.generated_at)
    d.add_paragraph().add_run(doc.academy).bold = True
    d.add_paragraph(f"Course syllabus. Generated {stamp(doc.generated_at)}")
    course_section(d, c, 1)
    return _save(d)


def book(doc: PlanBookDocument) -> bytes:
    plan = doc.plan
    code = f"{plan.code} v{plan.version}"
    d = _new(f"{plan.name} ({code}) — syllabus book", doc.academy, code, doc.generated_at)
    d.add_paragraph().add_run(doc.academy).bold = True
    d.add_heading(plan.name, 0)
    _facts(d, text.plan_facts(plan))
    if plan.description:
        d.add_paragraph(plan.description)
    d.add_paragraph(f"Generated {stamp(doc.generated_at)}")

    d.add_heading("Approval", 1).paragraph_format.page_break_before = True
    d.add_paragraph(f"Status: {text.label(plan.status)}")
    if plan.transitions:
        _table(
            d,
            ["When (UTC)", "Action", "From", "To", "By", "Comment"],
            [
                [stamp(t.at), *map(text.label, (t.action, t.from_status, t.to_status))]
                + [t.actor, t.comment]
                for t in plan.transitions
            ],
        )
    else:
        d.add_paragraph("No transitions yet: the plan has not been submitted.")

    d.add_heading("Term plan", 1).paragraph_format.page_break_before = True
    for t in plan.term_plan:
        d.add_heading(f"Term {t.term}", 2)
        rows = [
            [i.course_code, i.course_title, text.place(i), str(i.hours), str(i.self_study_hours)]
            for i in t.items
        ]
        rows.append(
            [f"Term load (budget {t.budget})", "", "", str(t.hours), str(t.self_study_hours)]
        )
        _table(d, ["Course", "Title", "Place", "Hours", "Self-study"], rows)
    d.add_paragraph(f"Total contact hours: {plan.total_hours}")
    if doc.withheld:
        d.add_paragraph(
            f"Syllabi not included (outside the public catalogue): {', '.join(doc.withheld)}."
        )

    for c in doc.courses:
        d.add_page_break()
        course_section(d, c, 1)

    _matrix_appendix(d, doc)
    d.add_section(WD_SECTION.NEW_PAGE)
    _orient(d, landscape=False)
    d.add_heading("Appendix B. Validation findings", 1)
    v = doc.validation
    d.add_paragraph(f"{v.errors} error(s), {v.warnings} warning(s).")
    if v.findings:
        _table(
            d,
            ["Severity", "Rule", "Finding", "Term", "Course", "Instrument"],
            [
                [text.label(f.severity), f.rule, f.message, str(f.term or "")]
                + [f.course_code or "", f.instrument_code or ""]
                for f in v.findings
            ],
        )
    return _save(d)


def _orient(d: WordDocument, *, landscape: bool) -> None:
    section = d.sections[-1]
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    short, long_ = Mm(210), Mm(297)
    section.page_width, section.page_height = (long_, short) if landscape else (short, long_)


def _matrix_appendix(d: WordDocument, doc: PlanBookDocument) -> None:
    d.add_section(WD_SECTION.NEW_PAGE)
    _orient(d, landscape=True)
    d.add_heading("Appendix A. Coverage matrix", 1)
    d.add_paragraph(
        "Kinds: T teaches, P practises, A assesses, R references; "
        "then the deepest depth and the hours."
    )
    g = grid(doc.coverage, used_only=True)
    if not g.instruments:
        d.add_paragraph("No course of the plan is linked to an instrument.")
    for part in chunks(g):
        _table(
            d,
            ["Course", *(i.code for i in part.instruments)],
            [
                [course.code] + [cell_text(c) if c else "" for c in cells]
                for course, cells in part.rows
            ],
        )
        d.add_paragraph()
    if g.instruments:
        d.add_heading("Instruments", 2)
        _table(d, ["Code", "Short title"], [[i.code, i.short_title] for i in g.instruments])
