"""Every UI string goes through gettext, so that Russian and Uzbek catalogues can follow."""

import re
from html.parser import HTMLParser

from babel.messages.extract import extract_from_dir

from app.config import ROOT

TEMPLATES = ROOT / "app" / "templates"
JINJA = re.compile(r"{#.*?#}|{%.*?%}|{{.*?}}", re.S)
# Text that is not language: codes, units, punctuation, separators, version marks.
NEUTRAL = re.compile(
    r"^[\W\d_]*$|^(v|h|OpenAPI|HTTP|API|ETag|CSV|XLSX|JSON|PDF|DOCX|HTML|[A-Z]{1,3}\d?)$"
)
# Documents (syllabi, plan books) are written in the academy's working language for now; their
# wording lives in app/exports/text.py and templates/exports/ and is not yet in the catalogues.
NOT_UI = ("exports",)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code"):
            self.skip += 1
        for name, value in attrs:
            if (
                name in ("placeholder", "title", "aria-label", "alt")
                and value
                and not NEUTRAL.match(value.strip())
            ):
                self.texts.append(f'{name}="{value}"')

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code"):
            self.skip -= 1

    def handle_data(self, data):
        for word in data.split():
            if not self.skip and not NEUTRAL.match(word):
                self.texts.append(word)


def test_templates_have_no_untranslated_text():
    untranslated = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        if path.name == "docs.html" or path.relative_to(TEMPLATES).parts[0] in NOT_UI:
            continue
        parser = _Text()
        parser.feed(JINJA.sub(" ", path.read_text(encoding="utf-8")))
        if parser.texts:
            untranslated[str(path.relative_to(TEMPLATES))] = parser.texts[:8]
    assert untranslated == {}


def test_babel_extracts_the_template_strings():
    method_map = [("app/**.py", "python"), ("app/templates/**.html", "jinja2")]
    options = {"app/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    messages = {
        m[2]
        for m in extract_from_dir(
            str(ROOT),
            method_map,
            options_map=options,
            keywords={"_": None, "gettext": None, "ngettext": (1, 2)},
        )
    }
    flat = {m if isinstance(m, str) else m[0] for m in messages}
    assert {"Sign in", "Curriculum Planner", "Validation findings"} <= flat
