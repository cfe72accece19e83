"""UI language: every page string goes through gettext (Babel catalogues under app/locale/).

English is the source language; Russian and Uzbek catalogues are added with
`pybabel init -i app/locale/messages.pot -d app/locale -l ru` (see the README).
"""

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from fastapi import Request

LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED = ("en", "ru", "uz")
DEFAULT = "en"


@lru_cache
def translations(locale: str) -> NullTranslations:
    return Translations.load(str(LOCALE_DIR), [locale], domain="messages")


def locale_of(request: Request) -> str:
    """?lang=, then the `lang` cookie, then Accept-Language; English otherwise."""
    wanted = request.query_params.get("lang") or request.cookies.get("lang")
    if wanted in SUPPORTED:
        return wanted
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in SUPPORTED:
            return tag
    return DEFAULT
