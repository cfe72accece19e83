"""The shipped registry and catalogue: complete, official, and consistent."""

from collections import Counter
from datetime import date

import pytest

from app.config import ROOT
from app.services import loader


@pytest.fixture(scope="module")
def bundle():
    return loader.read(ROOT / "curricula")


@pytest.fixture(scope="module")
def instruments(bundle):
    return {i.code: i for i in bundle.instruments}


# Every instrument the seed paper names, with its official adoption date.
SEED = {
    "ccleo-1979": date(1979, 12, 17),
    "coe-police-declaration-1979": date(1979, 5, 8),
    "single-convention-1961": date(1961, 3, 30),
    "psychotropic-1971": date(1971, 2, 21),
    "drug-trafficking-1988": date(1988, 12, 20),
    "tokyo-1963": date(1963, 9, 14),
    "hague-1970": date(1970, 12, 16),
    "montreal-1971": date(1971, 9, 23),
    "montreal-airports-1988": date(1988, 2, 24),
    "protected-persons-1973": date(1973, 12, 14),
    "hostages-1979": date(1979, 12, 17),
    "plastic-explosives-1991": date(1991, 3, 1),
    "terrorist-bombings-1997": date(1997, 12, 15),
    "terrorist-financing-1999": date(1999, 12, 9),
    "sco-shanghai-2001": date(2001, 6, 15),
    "untoc-2000": date(2000, 11, 15),
    "cis-economic-crime-1996": date(1996, 4, 12),
}
CORE = [
    "udhr-1948",
    "iccpr-1966",
    "cat-1984",
    "bpuff-1990",
    "body-of-principles-1988",
    "ecpe-2001",
    "uncac-2003",
    "budapest-2001",
    "untoc-trafficking-2000",
    "untoc-smuggling-2000",
    "untoc-firearms-2001",
    "single-protocol-1972",
    "cppnm-1979",
]


def test_registry_holds_the_seed_and_core_instruments(instruments):
    assert len(instruments) >= 25
    for code, adopted in SEED.items():
        assert code in instruments, code
        assert instruments[code].adopted_on == adopted, code
    assert set(CORE) <= set(instruments)


def test_paper_wording_is_kept_as_alias(instruments):
    assert instruments["ccleo-1979"].title == "Code of Conduct for Law Enforcement Officials"
    assert any("Code of Ethics" in a for a in instruments["ccleo-1979"].aliases)
    assert any("Bombs" in a for a in instruments["terrorist-bombings-1997"].aliases)
    assert "Nuclear" not in instruments["plastic-explosives-1991"].title


def test_treaties_have_entry_into_force_after_adoption(instruments):
    for code in (
        "single-convention-1961",
        "drug-trafficking-1988",
        "untoc-2000",
        "cat-1984",
        "iccpr-1966",
    ):
        i = instruments[code]
        assert i.entry_into_force_on and i.entry_into_force_on > i.adopted_on, code


def test_relations(instruments):
    assert instruments["single-protocol-1972"].amends == "single-convention-1961"
    assert instruments["montreal-airports-1988"].supplements == "montreal-1971"
    for code in ("untoc-trafficking-2000", "untoc-smuggling-2000", "untoc-firearms-2001"):
        assert instruments[code].supplements == "untoc-2000"


def test_article_level_provisions(instruments):
    assert [p.key for p in instruments["ccleo-1979"].provisions] == [
        f"art-{n}" for n in range(1, 9)
    ]
    for code in (
        "single-convention-1961",
        "psychotropic-1971",
        "drug-trafficking-1988",
        "untoc-2000",
        "cat-1984",
        "iccpr-1966",
    ):
        assert len(instruments[code].provisions) >= 3, code


def test_uzbekistan_participation_is_recorded(instruments):
    for code in (
        "single-convention-1961",
        "psychotropic-1971",
        "drug-trafficking-1988",
        "untoc-2000",
    ):
        assert any(p.country == "UZ" for p in instruments[code].participation), code


def test_catalogue_spans_the_core_domains(bundle):
    assert len(bundle.courses) >= 30
    per_domain = Counter(c.domain.value for c in bundle.courses)
    for domain in ("human_rights", "foreign_languages", "transnational_crime"):
        assert per_domain[domain] >= 8, per_domain
    assert all(
        c.outcomes and c.links or c.domain.value == "foreign_languages" for c in bundle.courses
    )


def test_code_of_conduct_is_assessed_article_by_article(bundle):
    assessed = {
        lk.target
        for c in bundle.courses
        if c.status.value == "approved"
        for lk in c.links
        if lk.kind.value == "assesses"
    }
    assert {f"ccleo-1979/art-{n}" for n in range(1, 9)} <= assessed
