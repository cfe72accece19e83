"""A strict well-formedness check for rendered pages: balanced tags, unique ids, labelled fields."""

from html.parser import HTMLParser

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ids: dict[str, int] = {}
        self.labels: set[str] = set()
        self.fields: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids[a["id"]] = self.ids.get(a["id"], 0) + 1
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in (
            "hidden",
            "submit",
            "button",
        ):
            self.fields.append(a.get("id") or f"<{tag} name={a.get('name')}> without id")
        if "style" in a:
            self.problems.append(f"inline style on <{tag}> (the CSP forbids it)")
        if tag == "script" and not a.get("src"):
            self.problems.append("inline <script> (the CSP forbids it)")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            # <p> and <li> may close implicitly; everything else must nest properly.
            while self.stack and self.stack[-1] in ("p", "li") and self.stack[-1] != tag:
                self.stack.pop()
            if not self.stack or self.stack[-1] != tag:
                self.problems.append(
                    f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>"
                )
                return
        self.stack.pop()


def check_html(html: str) -> None:
    """Raise AssertionError listing every problem found in the page or fragment."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    problems = list(checker.problems)
    open_tags = [t for t in checker.stack if t not in ("p", "li", "html", "body")]
    if open_tags:
        problems.append(f"unclosed: {open_tags}")
    problems += [f"duplicate id {i!r}" for i, n in checker.ids.items() if n > 1]
    problems += [f"field {f} has no <label for>" for f in checker.fields if f not in checker.labels]
    assert not problems, problems
