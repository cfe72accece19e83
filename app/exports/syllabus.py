"""Course syllabi and plan syllabus books as HTML, PDF, DOCX, Markdown and JSON.

The PDF is WeasyPrint's rendering of the very HTML the browser gets (print CSS: page numbers,
running header), with the DejaVu fonts shipped in static/fonts so Uzbek in Latin and Cyrillic
script and Russian print the same on every machine.
"""

import base64
import hashlib
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from app.exports import (
    FONTS,
    STATIC,
    BookFormat,
    Document,
    SyllabusFormat,
    markdown,
    stamp,
    text,
    word,
)
from app.exports.matrix import cell_text, chunks, grid
from app.exports.schema import PlanBookDocument, SyllabusDocument

env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
)
env.globals.update(
    facts=text.facts,
    languages=text.languages,
    hours_row=text.hours_row,
    legal_row=text.legal_row,
    label=text.label,
    place=text.place,
    stamp=stamp,
    cell_text=cell_text,
    HOURS=text.HOURS,
    LEGAL_HEAD=text.LEGAL_HEAD,
)


def stylesheet(fonts_url: str) -> str:
    return env.get_template("exports/_style.css").render(fonts_url=fonts_url)


def style_hash(fonts_url: str) -> str:
    """The CSP source that allows exactly this inline stylesheet (`'sha256-...'`)."""
    digest = hashlib.sha256(stylesheet(fonts_url).encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def _html(template: str, doc, fonts_url: str, **extra) -> str:
    return env.get_template(template).render(
        doc=doc,
        generated=stamp(doc.generated_at),
        css=Markup(stylesheet(fonts_url)),  # our own template; fonts_url is a path we chose
        **extra,
    )


def _book_extra(doc: PlanBookDocument) -> dict:
    g = grid(doc.coverage, used_only=True)
    return {
        "plan_facts": text.plan_facts(doc.plan),
        "matrix_chunks": chunks(g),
        "matrix_instruments": g.instruments,
    }


@lru_cache
def _static_only():
    """A fetcher that lets WeasyPrint read our fonts and nothing else: no network, no files."""
    from weasyprint.urls import URLFetcher  # imported on first use: it loads Pango (~0.5 s)

    class StaticOnly(URLFetcher):
        def fetch(self, url, headers=None):
            if not url.startswith(STATIC.as_uri() + "/"):
                raise ValueError(f"not fetched while printing: {url}")
            return super().fetch(url, headers)

    return StaticOnly()


def pdf(html: str) -> bytes:
    """Print the HTML; its dcterms.created/modified meta become the PDF's only timestamps."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=_static_only())
    return document.write_pdf()


def course(doc: SyllabusDocument, fmt: SyllabusFormat, *, fonts_url: str | None = None) -> Document:
    """One course's syllabus in the format asked for."""
    stem = f"{doc.course.code}-syllabus"
    if fmt == SyllabusFormat.json:
        return Document((doc.model_dump_json(indent=2) + "\n").encode(), "json", stem)
    if fmt == SyllabusFormat.md:
        return Document(markdown.course(doc).encode(), "md", stem)
    if fmt == SyllabusFormat.docx:
        return Document(word.course(doc), "docx", stem)
    if fmt == SyllabusFormat.pdf:
        return Document(pdf(_html("exports/syllabus.html", doc, FONTS.as_uri())), "pdf", stem)
    html = _html("exports/syllabus.html", doc, fonts_url or FONTS.as_uri())
    return Document(html.encode(), "html", stem, inline=True)


def book(doc: PlanBookDocument, fmt: BookFormat, *, fonts_url: str | None = None) -> Document:
    """A plan's syllabus book in the format asked for."""
    stem = f"{doc.plan.code}-v{doc.plan.version}-syllabus-book"
    if fmt == BookFormat.json:
        return Document((doc.model_dump_json(indent=2) + "\n").encode(), "json", stem)
    if fmt == BookFormat.docx:
        return Document(word.book(doc), "docx", stem)
    extra = _book_extra(doc)
    if fmt == BookFormat.pdf:
        return Document(pdf(_html("exports/book.html", doc, FONTS.as_uri(), **extra)), "pdf", stem)
    html = _html("exports/book.html", doc, fonts_url or FONTS.as_uri(), **extra)
    return Document(html.encode(), "html", stem, inline=True)
