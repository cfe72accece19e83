"""`python -m bench.generate --database-url URL --scale N [--seed S]`: migrate an empty database
and fill it with a synthetic academy for the benchmarks.

At scale 1 the database holds 2,000 courses, 300 instruments with 3,000 provisions, 20,000
course links, 100 plans of 30-60 items, 10,000 people and 100,000 training records, the shipped
curricula among them (so HR-101, ccleo-1979 and the shipped plans exist as in production). Every
count is linear in N (N may be a fraction), and the same seed gives the same rows. Around those
volumes it also writes what the schema holds beside them: outcomes and prerequisites, themes and
participation, elective groups, required instruments and workflow history, units and cohorts,
enrolments, language certificates, in-service requirements and the search index.

Rows are inserted in bulk (executemany in chunks) with ids assigned here; on PostgreSQL the id
sequences are moved past them afterwards, and both databases are analysed at the end so that the
query planner sees the volumes. No audit events are written: the generator is a fixture, not a
change made by a user.
"""

import argparse
import random
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from app.cli import migrate
from app.config import ROOT
from app.db import build_engine
from app.models.common import (
    Bloom,
    Cefr,
    CourseStatus,
    Depth,
    Domain,
    InstrumentKind,
    Level,
    LinkKind,
    ParticipationStatus,
    Theme,
)
from app.models.courses import Course, CourseLink, CourseOutcome, CoursePrerequisite
from app.models.instruments import Instrument, InstrumentTheme, Participation, Provision
from app.models.personnel import GroupMember, OrgUnit, Person, PersonLanguage
from app.models.plans import ElectiveGroup, Plan, PlanItem, PlanRequiredInstrument, PlanTransition
from app.models.training import Enrollment, Requirement, TrainingRecord
from app.services import loader, search

DEFAULT_SEED = 1
CHUNK = 5_000
ZIPF = 1.4  # exponent of the instruments' popularity among the generated course links
CREATED = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)  # every generated row's timestamps


@dataclass(frozen=True)
class Volumes:
    """What a scale asks for, the shipped curricula included."""

    courses: int
    instruments: int
    provisions: int
    links: int
    plans: int
    people: int
    records: int

    @classmethod
    def at(cls, scale: float) -> "Volumes":
        def n(base: int) -> int:
            return max(1, round(base * scale))

        return cls(n(2_000), n(300), n(3_000), n(20_000), n(100), n(10_000), n(100_000))


# ---- vocabulary --------------------------------------------------------------------------------

PREFIX = {
    Domain.human_rights: "HR",
    Domain.foreign_languages: "FL",
    Domain.transnational_crime: "TC",
    Domain.criminal_procedure: "CP",
    Domain.criminal_law: "CL",
    Domain.cybercrime: "CY",
    Domain.tactics: "TA",
    Domain.forensics: "FO",
    Domain.leadership: "LD",
}
DOMAIN_WEIGHTS = [16, 9, 16, 10, 9, 9, 12, 10, 9]  # in Domain order
SUBJECTS = {
    Domain.human_rights: [
        "Use of force and firearms",
        "Rights of persons in custody",
        "Prevention of torture and ill-treatment",
        "Human rights in public order policing",
        "Police ethics and integrity",
        "Interviewing vulnerable victims",
        "Non-discrimination in policing",
        "Privacy and police surveillance",
    ],
    Domain.foreign_languages: [
        "Professional English for police",
        "English for international cooperation",
        "Russian for CIS cooperation",
        "Chinese for SCO cooperation",
        "French for Interpol communication",
        "Arabic for border officers",
    ],
    Domain.transnational_crime: [
        "Countering illicit drug trafficking",
        "Controlled deliveries",
        "Organised criminal groups",
        "Trafficking in persons",
        "Smuggling of migrants",
        "Terrorist financing",
        "Aviation security incidents",
        "Precursor chemicals control",
        "Money laundering investigations",
        "Corruption in the public sector",
    ],
    Domain.criminal_procedure: [
        "Arrest and detention procedure",
        "Search and seizure",
        "Evidence and the chain of custody",
        "Mutual legal assistance requests",
        "Extradition practice",
    ],
    Domain.criminal_law: [
        "Offences against the person",
        "Economic offences",
        "Drug offences",
        "Terrorism offences",
        "Corruption offences",
    ],
    Domain.cybercrime: [
        "Digital evidence",
        "Cyber-enabled fraud",
        "Darknet markets",
        "Open-source intelligence",
        "Cryptocurrency tracing",
    ],
    Domain.tactics: [
        "Patrol tactics",
        "Hostage and barricade incidents",
        "Crowd management",
        "Vehicle stops",
        "Airport security screening",
    ],
    Domain.forensics: [
        "Crime scene examination",
        "Forensic identification of drugs",
        "Fingerprint evidence",
        "Document examination",
    ],
    Domain.leadership: [
        "Command of operations",
        "Supervision and integrity management",
        "Strategic planning for police",
        "International police cooperation management",
    ],
}
AUDIENCE = {
    Level.initial: "for cadets",
    Level.in_service: "for serving officers",
    Level.advanced: "advanced course",
    Level.command: "for commanders",
}
THEMES_BY_DOMAIN = {
    Domain.human_rights: [
        Theme.human_rights,
        Theme.police_ethics,
        Theme.use_of_force,
        Theme.detention,
        Theme.torture_prevention,
        Theme.fair_trial,
        Theme.privacy,
    ],
    Domain.transnational_crime: [
        Theme.drugs,
        Theme.terrorism,
        Theme.extremism,
        Theme.aviation_security,
        Theme.organised_crime,
        Theme.trafficking_in_persons,
        Theme.migrant_smuggling,
        Theme.money_laundering,
        Theme.corruption,
        Theme.terrorist_financing,
        Theme.firearms,
    ],
    Domain.criminal_procedure: [
        Theme.fair_trial,
        Theme.extradition,
        Theme.mutual_legal_assistance,
        Theme.international_cooperation,
    ],
    Domain.cybercrime: [Theme.cybercrime, Theme.privacy, Theme.international_cooperation],
}
INSTRUMENT_SUBJECTS = [
    ("Combating Illicit Trafficking in Narcotic Drugs and Psychotropic Substances", Theme.drugs),
    ("Cooperation in Combating Terrorism", Theme.terrorism),
    ("Suppression of Acts of Unlawful Interference with Civil Aviation", Theme.aviation_security),
    ("Combating Transnational Organized Crime", Theme.organised_crime),
    ("Prevention of Trafficking in Persons", Theme.trafficking_in_persons),
    ("Countering the Financing of Terrorism", Theme.terrorist_financing),
    ("Mutual Legal Assistance in Criminal Matters", Theme.mutual_legal_assistance),
    ("Extradition", Theme.extradition),
    ("the Conduct of Law Enforcement Officials", Theme.police_ethics),
    ("the Treatment of Persons Deprived of Liberty", Theme.detention),
    ("the Use of Force by Police", Theme.use_of_force),
    ("Combating Cybercrime", Theme.cybercrime),
    ("Combating Corruption", Theme.corruption),
    ("Combating Money Laundering", Theme.money_laundering),
    ("Illicit Manufacturing of and Trafficking in Firearms", Theme.firearms),
    ("Protection of Personal Data in Police Cooperation", Theme.privacy),
]
KIND_WORD = {
    InstrumentKind.convention: "Convention",
    InstrumentKind.protocol: "Protocol",
    InstrumentKind.agreement: "Agreement",
    InstrumentKind.recommendation: "Recommendation",
    InstrumentKind.guidelines: "Guidelines",
    InstrumentKind.principles: "Principles",
    InstrumentKind.resolution: "Resolution",
}
BODIES = [
    ("United Nations", "New York"),
    ("Council of Europe", "Strasbourg"),
    ("Shanghai Cooperation Organisation", "Tashkent"),
    ("Commonwealth of Independent States", "Minsk"),
    ("ICAO", "Montreal"),
    ("OSCE", "Vienna"),
    ("UNODC", "Vienna"),
]
HEADINGS = [
    "Definitions",
    "Scope of application",
    "Criminalization",
    "Jurisdiction",
    "Liability of legal persons",
    "Seizure and confiscation",
    "Extradition",
    "Mutual legal assistance",
    "Law enforcement cooperation",
    "Joint investigations",
    "Special investigative techniques",
    "Protection of witnesses",
    "Assistance to victims",
    "Training and technical assistance",
    "Prevention",
    "Exchange of information",
]
COUNTRIES = ["UZ", "KZ", "KG", "TJ", "RU", "CN", "IN", "PK", "TR", "DE", "FR", "GB"]
TARGET_LANGUAGES = ["en", "en", "en", "ru", "zh", "fr", "ar", "de"]
CEFR = [c.value for c in Cefr]
GIVEN = ["Aziz", "Dilnoza", "Jasur", "Malika", "Rustam", "Nodira", "Sherzod", "Gulnora", "Timur"]
GIVEN += ["Kamola", "Bekzod", "Shahnoza", "Otabek", "Feruza", "Sardor", "Zarina", "Ulugbek"]
FAMILY = ["Karimov", "Rahimova", "Yusupov", "Tursunova", "Aliyev", "Nazarova", "Saidov"]
FAMILY += ["Ivanov", "Abdullayeva", "Ergashev", "Kholmatova", "Mirzayev", "Sobirova", "Umarov"]
RANKS = ["Lieutenant", "Senior Lieutenant", "Captain", "Major", "Lieutenant Colonel", "Colonel"]
RANKS += ["Sergeant", "Senior Sergeant", "Cadet"]
POSITIONS = ["Patrol officer", "Inspector", "Investigator", "Operative", "Duty officer"]
POSITIONS += ["Head of section", "Deputy head of department", "Instructor", "Analyst"]
REGIONS = ["Tashkent", "Samarkand", "Bukhara", "Andijan", "Fergana", "Namangan", "Khorezm"]
REGIONS += ["Kashkadarya", "Surkhandarya", "Navoi", "Jizzakh", "Syrdarya", "Karakalpakstan"]
SERVICES = ["Patrol Service", "Criminal Investigation", "Drug Control", "Counter-Terrorism"]
SERVICES += ["Economic Crime", "Transport Police"]


def course_code(domain: Domain, n: int) -> str:
    """The n-th generated code of a domain, in the catalogue's form (HR-101, HR-101A): numbers
    100-999 with a letter (the shipped courses have none), then a third prefix letter."""
    n -= 1
    block, number = divmod(n, 900)
    extra = "" if block < 26 else chr(65 + (block // 26 - 1) % 26)
    return f"{PREFIX[domain]}{extra}-{100 + number}{chr(65 + block % 26)}"


# ---- the generator -----------------------------------------------------------------------------


@dataclass
class _Course:
    id: int
    code: str
    domain: Domain
    level: Level
    status: str
    contact: int
    themes: list[str] = field(default_factory=list)


class Generator:
    def __init__(self, conn: Connection, postgres: bool, volumes: Volumes, seed: int):
        self.conn, self.postgres, self.v = conn, postgres, volumes
        self.rng = random.Random(seed)
        self.counts: dict[str, int] = {}

    # -- plumbing

    def _next_id(self, table: Table) -> int:
        return (self.conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1

    def _insert(self, table: Table, rows: Iterable[dict]) -> int:
        done, chunk = 0, []
        for row in rows:
            chunk.append(row)
            if len(chunk) == CHUNK:
                self.conn.execute(insert(table), chunk)
                done, chunk = done + len(chunk), []
        if chunk:
            self.conn.execute(insert(table), chunk)
            done += len(chunk)
        self.counts[table.name] = self.counts.get(table.name, 0) + done
        return done

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _stamps(self) -> dict:
        return {"created_at": CREATED, "updated_at": CREATED}

    def _existing(self, table: Table) -> int:
        return self.conn.execute(select(func.count()).select_from(table)).scalar()

    # -- catalogue

    def instruments(self) -> None:
        t, pt = Instrument.__table__, Provision.__table__
        self.instrument_rows: list[tuple[int, str, list[str]]] = [
            (iid, code, [])
            for iid, code in self.conn.execute(select(t.c.id, t.c.code).order_by(t.c.id))
        ]
        themes: dict[int, list[str]] = {}
        for iid, theme in self.conn.execute(
            select(InstrumentTheme.__table__.c.instrument_id, InstrumentTheme.__table__.c.theme)
        ):
            themes.setdefault(iid, []).append(theme)
        for iid, _, ts in self.instrument_rows:
            ts.extend(themes.get(iid, []))
        self.provisions: dict[int, list[int]] = {}
        for pid, iid in self.conn.execute(select(pt.c.id, pt.c.instrument_id).order_by(pt.c.id)):
            self.provisions.setdefault(iid, []).append(pid)

        new = max(0, self.v.instruments - len(self.instrument_rows))
        provisions_left = max(0, self.v.provisions - self._existing(pt))
        first = self._first_generated_instrument = self._next_id(t)
        rows, theme_rows, part_rows, docs = [], [], [], []
        kinds = list(KIND_WORD)
        for k in range(new):
            iid = first + k
            subject, theme = INSTRUMENT_SUBJECTS[k % len(INSTRUMENT_SUBJECTS)]
            kind = kinds[self.rng.randrange(len(kinds))]
            body, place = BODIES[self.rng.randrange(len(BODIES))]
            year = 1950 + self.rng.randrange(75)
            adopted = date(year, 1 + self.rng.randrange(12), 1 + self.rng.randrange(28))
            code = f"gen-{kind.value.replace('_', '-')}-{k + 1:05d}-{year}"
            title = f"{KIND_WORD[kind]} on {subject} (No. {k + 1})"
            short = f"{body.split()[0]} {KIND_WORD[kind]} No. {k + 1} ({year})"
            summary = (
                f"Adopted by the {body} at {place} in {year}. It obliges the parties to "
                f"cooperate on {subject.lower()} and sets standards that police training must "
                "cover: jurisdiction, exchange of information and the rights of the persons concerned."
            )
            rows.append(
                {
                    "id": iid,
                    "code": code,
                    "title": title,
                    "short_title": short,
                    "aliases": [f"{body} {KIND_WORD[kind]} of {year}"],
                    "kind": kind.value,
                    "body": body,
                    "place": place,
                    "adopted_on": adopted,
                    "entry_into_force_on": adopted + timedelta(days=200 + self.rng.randrange(900)),
                    "reference": f"Doc. {body.split()[0][:4].upper()}/{year}/{k + 1}",
                    "source_url": None,
                    "summary": summary,
                    "amends_id": None,
                    "supplements_id": None,
                    "version": 1,
                    **self._stamps(),
                }
            )
            extra = self.rng.choice([t for t in Theme if t != theme])
            ts = [theme.value, extra.value]
            theme_rows += [{"instrument_id": iid, "theme": x} for x in ts]
            for country in self.rng.sample(COUNTRIES, 3):
                part_rows.append(
                    {
                        "instrument_id": iid,
                        "country": country,
                        "status": self.rng.choice(
                            [ParticipationStatus.ratified.value, ParticipationStatus.acceded.value]
                        ),
                        "date": adopted + timedelta(days=365 + self.rng.randrange(3000)),
                    }
                )
            self.instrument_rows.append((iid, code, ts))
            docs.append((iid, " ".join([code, title, short, body, summary])))
        self._insert(t, rows)
        self._insert(InstrumentTheme.__table__, theme_rows)
        self._insert(Participation.__table__, part_rows)

        # Provisions: spread over the generated instruments, articles numbered in order.
        first_p = self._next_id(pt)
        prow = []
        per = [provisions_left // new + (1 if i < provisions_left % new else 0) for i in range(new)]
        pid = first_p
        for (iid, code, _), count in zip(
            self.instrument_rows[-new:] if new else [], per, strict=True
        ):
            for a in range(1, count + 1):
                heading = HEADINGS[(a - 1) % len(HEADINGS)]
                prow.append(
                    {
                        "id": pid,
                        "instrument_id": iid,
                        "code": f"{code}/art-{a}",
                        "number": f"Art. {a}",
                        "heading": heading,
                        "summary": f"{heading}: what the parties undertake under article {a}.",
                        "position": a,
                    }
                )
                self.provisions.setdefault(iid, []).append(pid)
                pid += 1
        self._insert(pt, prow)
        self._index("instrument", docs)

    def courses(self) -> None:
        t = Course.__table__
        self.course_rows: list[_Course] = []
        for cid, code, domain, level, status, le, se, pr in self.conn.execute(
            select(
                t.c.id,
                t.c.code,
                t.c.domain,
                t.c.level,
                t.c.status,
                t.c.lecture_hours,
                t.c.seminar_hours,
                t.c.practical_hours,
            ).order_by(t.c.id)
        ):
            self.course_rows.append(
                _Course(cid, code, Domain(domain), Level(level), status, le + se + pr)
            )
        new = max(0, self.v.courses - len(self.course_rows))
        first = self._first_generated_course = self._next_id(t)
        domains = list(Domain)
        numbers = {d: 0 for d in Domain}
        rows, outcomes, prereqs, docs = [], [], [], []
        by_domain: dict[Domain, list[_Course]] = {}
        for c in self.course_rows:
            by_domain.setdefault(c.domain, []).append(c)
        for k in range(new):
            cid = first + k
            domain = self.rng.choices(domains, DOMAIN_WEIGHTS)[0]
            numbers[domain] += 1
            code = course_code(domain, numbers[domain])
            level = self.rng.choices(list(Level), [40, 35, 15, 10])[0]
            status = self.rng.choices(
                [CourseStatus.approved, CourseStatus.draft, CourseStatus.archived], [80, 15, 5]
            )[0].value
            subject = self.rng.choice(SUBJECTS[domain])
            title = f"{subject} {AUDIENCE[level]} ({numbers[domain]})"
            lecture, seminar = 6 + 2 * self.rng.randrange(12), 4 + 2 * self.rng.randrange(8)
            practical = 2 * self.rng.randrange(12)
            language = domain == Domain.foreign_languages
            description = (
                f"{subject} {AUDIENCE[level]}: the international standards and national law on "
                f"the subject, how they apply in day-to-day police work, and case exercises drawn "
                f"from the practice of the academy. Course {code} of the synthetic catalogue."
            )
            topics = [f"{subject}: part {p}" for p in range(1, 5 + self.rng.randrange(4))]
            assessment = "Written examination (60%) and a practical case exercise (40%)."
            rows.append(
                {
                    "id": cid,
                    "code": code,
                    "title": title,
                    "domain": domain.value,
                    "level": level.value,
                    "status": status,
                    "restricted": self.rng.random() < 0.05,
                    "description": description,
                    "lecture_hours": lecture,
                    "seminar_hours": seminar,
                    "practical_hours": practical,
                    "self_study_hours": lecture + seminar,
                    "credits": round((lecture + seminar + practical) / 18, 1) or 1.0,
                    "language_of_instruction": "uz" if self.rng.random() < 0.7 else "ru",
                    "target_language": self.rng.choice(TARGET_LANGUAGES) if language else None,
                    "cefr_level": self.rng.choice(CEFR[:4]) if language else None,
                    "topics": topics,
                    "assessment": assessment,
                    "references": ["OHCHR, Human Rights and Law Enforcement (2017)"],
                    "version": 1,
                    **self._stamps(),
                }
            )
            texts = []
            for pos, bloom in enumerate(
                self.rng.sample([b.value for b in Bloom], 3 + self.rng.randrange(2)), start=1
            ):
                line = f"{bloom.capitalize()} the standards on {subject.lower()} in a case ({pos})."
                texts.append(line)
                outcomes.append({"course_id": cid, "position": pos, "text": line, "bloom": bloom})
            course = _Course(cid, code, domain, level, status, lecture + seminar + practical)
            earlier = by_domain.get(domain)
            if earlier and self.rng.random() < 0.3:
                prereqs.append(
                    {"course_id": cid, "prerequisite_id": self.rng.choice(earlier[-50:]).id}
                )
            by_domain.setdefault(domain, []).append(course)
            self.course_rows.append(course)
            docs.append((cid, " ".join([code, title, description, assessment, *topics, *texts])))
        self._insert(t, rows)
        self._insert(CourseOutcome.__table__, outcomes)
        self._insert(CoursePrerequisite.__table__, prereqs)
        self._index("course", docs)

    def _popularity(self, ids: list[int]) -> tuple[list[int], list[float]]:
        """`ids` in order of popularity (the shipped instruments first, then the generated ones in
        a seeded order) and cumulative Zipf weights: a few instruments are taught everywhere,
        most by a handful of courses, and some by none."""
        shipped = [i for i in ids if i < self._first_generated_instrument]
        rest = [i for i in ids if i >= self._first_generated_instrument]
        self.rng.shuffle(shipped)
        self.rng.shuffle(rest)
        ordered, total, cumulative = shipped + rest, 0.0, []
        for rank in range(len(ordered)):
            total += 1 / (rank + 1) ** ZIPF
            cumulative.append(total)
        return ordered, cumulative

    def links(self) -> None:
        """About ten links a generated course, mostly to popular instruments whose themes fit its
        domain."""
        t = CourseLink.__table__
        generated = [c for c in self.course_rows if c.id >= self._first_generated_course]
        left = max(0, self.v.links - self._existing(t))
        if not generated:
            return
        by_theme: dict[str, list[int]] = {}
        for iid, _, themes in self.instrument_rows:
            for theme in themes:
                by_theme.setdefault(theme, []).append(iid)
        everything = self._popularity([iid for iid, _, _ in self.instrument_rows])
        pools = {
            domain: self._popularity(
                sorted({i for theme in themes for i in by_theme.get(theme, [])})
            )
            for domain, themes in THEMES_BY_DOMAIN.items()
        }
        kinds, weights = list(LinkKind), [40, 20, 25, 15]
        depths = list(Depth)
        rows = []
        for n, course in enumerate(generated):
            count = left // len(generated) + (1 if n < left % len(generated) else 0)
            pool = pools.get(course.domain)
            seen: set[tuple] = set()
            attempts = 0
            while count > 0:
                attempts += 1
                ids, cumulative = pool if pool and self.rng.random() < 0.9 else everything
                iid = self.rng.choices(ids, cum_weights=cumulative)[0]
                provisions = self.provisions.get(iid) or [None]
                pid = self.rng.choice(provisions) if self.rng.random() < 0.8 else None
                kind = self.rng.choices(kinds, weights)[0].value
                if (iid, pid, kind) in seen and attempts < 1_000:
                    continue  # a repeat: draw again (the bound only matters for a tiny catalogue)
                seen.add((iid, pid, kind))
                rows.append(
                    {
                        "course_id": course.id,
                        "instrument_id": iid,
                        "provision_id": pid,
                        "kind": kind,
                        "depth": depths[min(2, list(Level).index(course.level))].value,
                        "hours": 0 if kind == "references" else 1 + self.rng.randrange(4),
                    }
                )
                count -= 1
        self._insert(t, rows)

    # -- plans

    def plans(self) -> None:
        t = Plan.__table__
        new = max(0, self.v.plans - self._existing(t))
        first = self._next_id(t)
        approved: dict[Level, list[_Course]] = {}
        for c in self.course_rows:
            if c.status == CourseStatus.approved:
                approved.setdefault(c.level, []).append(c)
        everything = [c for cs in approved.values() for c in cs]
        links: dict[int, list[int]] = {}
        lt = CourseLink.__table__
        for cid, iid in self.conn.execute(select(lt.c.course_id, lt.c.instrument_id)):
            links.setdefault(cid, []).append(iid)
        statuses = ["draft", "in_review", "approved", "archived"]
        steps = {
            "draft": [],
            "in_review": [("submit", "draft", "in_review")],
            "approved": [("submit", "draft", "in_review"), ("approve", "in_review", "approved")],
            "archived": [
                ("submit", "draft", "in_review"),
                ("approve", "in_review", "approved"),
                ("archive", "approved", "archived"),
            ],
        }
        group_id = self._next_id(ElectiveGroup.__table__)
        rows, items, groups, required, transitions = [], [], [], [], []
        self.plan_courses: dict[int, list[_Course]] = {}
        for k in range(new):
            pid = first + k
            level = self.rng.choices(list(Level), [45, 35, 12, 8])[0]
            terms = self.rng.choice([2, 4, 4, 6, 6, 8])
            size = (
                60 if k == 0 else 30 + self.rng.randrange(31)
            )  # the first: the 60-item bench plan
            pool = approved.get(level, []) if len(approved.get(level, [])) >= size else everything
            chosen = self.rng.sample(pool, min(size, len(pool)))
            per_term: dict[int, int] = {}
            placed = []
            for n, course in enumerate(chosen):
                term = 1 + n * terms // len(chosen)
                per_term[term] = per_term.get(term, 0) + course.contact
                placed.append((course, term))
            budget = max(per_term.values(), default=0)
            budget = (budget // 10 + 1) * 10 if self.rng.random() < 0.8 else budget * 9 // 10
            status = self.rng.choices(statuses, [50, 15, 25, 10])[0]
            language = self.rng.random() < 0.5
            year = 2025 + self.rng.randrange(4)
            rows.append(
                {
                    "id": pid,
                    "code": f"gen-{level.value.replace('_', '-')}-{k + 1:05d}",
                    "version": 1,
                    "name": f"{AUDIENCE[level].capitalize()}: programme {k + 1} ({year})",
                    "description": "Synthetic programme for the benchmarks: "
                    f"{len(placed)} courses over {terms} terms.",
                    "audience": level.value,
                    "academic_year": f"{year}/{year + 1}",
                    "terms": terms,
                    "term_hour_budget": max(budget, 1),
                    "term_budgets": {},
                    "total_hour_budget": sum(per_term.values()) + 40,
                    "target_language": "en" if language else None,
                    "target_cefr": "B1" if language else None,
                    "status": status,
                    "previous_version_id": None,
                    "effective_from": date(year, 9, 1),
                    "revision": 1 + len(steps[status]),
                    **self._stamps(),
                }
            )
            elective = {c.id for c, _ in placed[-3:]}
            groups.append(
                {
                    "id": group_id,
                    "plan_id": pid,
                    "key": "options",
                    "name": "Options (choose 2 of 3)",
                    "choose": 2,
                }
            )
            for course, term in placed:
                items.append(
                    {
                        "plan_id": pid,
                        "course_id": course.id,
                        "term": term,
                        "mandatory": course.id not in elective,
                        "elective_group_id": group_id if course.id in elective else None,
                        "hours_override": None,
                        "override_reason": None,
                    }
                )
            group_id += 1
            taught = sorted({i for c, _ in placed for i in links.get(c.id, [])})
            for iid in self.rng.sample(taught, min(len(taught), 5 + self.rng.randrange(4))):
                required.append({"plan_id": pid, "instrument_id": iid})
            at = CREATED
            for action, before, after in steps[status]:
                at += timedelta(days=3 + self.rng.randrange(20))
                transitions.append(
                    {
                        "plan_id": pid,
                        "action": action,
                        "from_status": before,
                        "to_status": after,
                        "actor": "head.of.department" if action != "submit" else "planner",
                        "at": at,
                        "comment": "",
                    }
                )
            self.plan_courses[pid] = [c for c, _ in placed]
        self._insert(t, rows)
        self._insert(ElectiveGroup.__table__, groups)
        self._insert(PlanItem.__table__, items)
        self._insert(PlanRequiredInstrument.__table__, required)
        self._insert(PlanTransition.__table__, transitions)

    # -- people and training

    def people(self) -> None:
        ut, pt = OrgUnit.__table__, Person.__table__
        new = max(0, self.v.people - self._existing(pt))
        unit_rows, self.units, self.cohorts = [], [], []
        uid = self._next_id(ut)
        # Regional directorates with a unit per service; one cohort per 200 people.
        for region in REGIONS[: max(1, min(len(REGIONS), round(len(REGIONS) * new / 10_000)))]:
            head = uid
            unit_rows.append(self._unit(uid, f"{region} Regional Directorate", "unit", None))
            uid += 1
            for service in SERVICES:
                unit_rows.append(self._unit(uid, f"{region} {service}", "unit", head))
                self.units.append(uid)
                uid += 1
        for c in range(max(1, new // 200)):
            unit_rows.append(self._unit(uid, f"Cohort {2026 + c % 3}-{c + 1:04d}", "cohort", None))
            self.cohorts.append(uid)
            uid += 1
        self._insert(ut, unit_rows)

        first = self._next_id(pt)
        self.person_ids = list(range(first, first + new))
        members, languages = [], []

        def rows() -> Iterator[dict]:
            for n, person_id in enumerate(self.person_ids, start=1):
                given = self.rng.choice(GIVEN)
                family = self.rng.choice(FAMILY)
                user = f"{given.lower()}.{family.lower()}.{n:06d}"
                number = f"E{n:06d}"
                rank, position = self.rng.choice(RANKS), self.rng.choice(POSITIONS)
                active = self.rng.random() > 0.05
                unit = self.rng.choice(self.units)
                if self.rng.random() < 0.5:
                    members.append(
                        {
                            "group_id": self.cohorts[n % len(self.cohorts)],
                            "person_id": person_id,
                            "added_at": CREATED,
                        }
                    )
                if self.rng.random() < 0.2:
                    languages.append(
                        {
                            "person_id": person_id,
                            "language": self.rng.choice(["en", "ru", "zh", "fr"]),
                            "cefr_level": self.rng.choice(CEFR[:5]),
                            "certificate_date": date(2022, 1, 1)
                            + timedelta(days=self.rng.randrange(1400)),
                            "certificate_expires_on": date(2027, 1, 1)
                            + timedelta(days=self.rng.randrange(1400)),
                        }
                    )
                yield {
                    "id": person_id,
                    "scim_id": self._uuid(),
                    "external_id": f"hr-{n:07d}",
                    "user_name": user,
                    "user_name_key": user,
                    "given_name": given,
                    "family_name": family,
                    "display_name": f"{given} {family}",
                    "emails": [
                        {"value": f"{user}@academy.example", "type": "work", "primary": True}
                    ],
                    "active": active,
                    "employee_number": number,
                    "organization": "Ministry of Internal Affairs",
                    "division": None,
                    "department": None,
                    "manager_id": None,
                    "rank": rank,
                    "position": position,
                    "title": None,
                    "unit_id": unit,
                    "level": self.rng.choice(["initial", "in_service", "in_service", "command"]),
                    "search_text": " ".join(
                        [user, given, family, f"{given} {family}", number, rank, position]
                    ).casefold(),
                    "version": 1,
                    **self._stamps(),
                    "deactivated_at": None if active else CREATED,
                    "deleted_at": None,
                }

        self._insert(pt, rows())
        self._insert(GroupMember.__table__, members)
        self._insert(PersonLanguage.__table__, languages)

    def _unit(self, uid: int, name: str, kind: str, parent: int | None) -> dict:
        return {
            "id": uid,
            "scim_id": self._uuid(),
            "external_id": f"unit-{uid}",
            "display_name": name,
            "kind": kind,
            "parent_id": parent,
            "version": 1,
            **self._stamps(),
            "deleted_at": None,
        }

    def training(self) -> None:
        """Each person is enrolled on one plan and has completed some of its courses."""
        if not self.person_ids:
            return
        plan_ids = sorted(self.plan_courses) or [
            pid for (pid,) in self.conn.execute(select(Plan.__table__.c.id))
        ]
        courses_of = self.plan_courses
        if not courses_of:  # no generated plans (a tiny scale): use every approved course
            approved = [c for c in self.course_rows if c.status == CourseStatus.approved]
            courses_of = dict.fromkeys(plan_ids, approved)
        left = max(0, self.v.records - self._existing(TrainingRecord.__table__))
        people = len(self.person_ids)
        enrolments = []

        def records() -> Iterator[dict]:
            for n, person_id in enumerate(self.person_ids):
                plan_id = plan_ids[n % len(plan_ids)]
                enrolments.append(
                    {
                        "person_id": person_id,
                        "plan_id": plan_id,
                        "course_id": None,
                        "target": f"plan:{plan_id}",
                        "source": "direct",
                        "group_id": None,
                        "assigned_at": CREATED,
                        "assigned_by": "hr-sync",
                    }
                )
                count = left // people + (1 if n < left % people else 0)
                options = courses_of[plan_id]
                for r in range(count):
                    course = options[r % len(options)]
                    day = date(2019, 1, 1) + timedelta(days=self.rng.randrange(2_800))
                    passed = self.rng.random() < 0.92
                    yield {
                        "person_id": person_id,
                        "course_id": course.id,
                        "plan_id": plan_id,
                        "completed_on": day,
                        "result": "passed" if passed else "failed",
                        "grade": self.rng.choice(["5", "4", "4", "3"]) if passed else "2",
                        "hours": float(course.contact),
                        "certificate_number": None,
                        "expires_on": None,
                        # as the batch import keys a record without a key of its own
                        "source_key": f"{course.code}@{day.isoformat()}#{r}",
                        "created_at": CREATED,
                        "created_by": "hr-sync",
                    }

        self._insert(TrainingRecord.__table__, records())
        self._insert(Enrollment.__table__, enrolments)
        if self._existing(Requirement.__table__) == 0:
            self._insert(Requirement.__table__, self._requirements())

    def _requirements(self) -> list[dict]:
        hr = next((c for c in self.course_rows if c.code == "HR-101"), self.course_rows[0])
        base = {
            "position": None,
            "level": None,
            "hours": None,
            "course_id": None,
            "domain": None,
            "every_years": None,
            "language": None,
            "created_at": CREATED,
            "created_by": "head.of.department",
        }
        return [
            {
                **base,
                "name": "40 hours of in-service training a year",
                "kind": "hours_per_year",
                "level": "in_service",
                "hours": 40.0,
            },
            {
                **base,
                "name": "Human rights refresher every 3 years",
                "kind": "refresher",
                "course_id": hr.id,
                "every_years": 3,
            },
            {
                **base,
                "name": "Transnational crime update every 2 years",
                "kind": "refresher",
                "domain": "transnational_crime",
                "every_years": 2,
                "position": "Investigator",
            },
            {
                **base,
                "name": "English certificate for liaison officers",
                "kind": "certificate",
                "language": "en",
                "position": "Head of section",
            },
        ]

    # -- search index and bookkeeping

    def _index(self, entity: str, docs: list[tuple[int, str]]) -> None:
        rows = [(i, " ".join(search.tokens(d, limit=None))) for i, d in docs]
        if self.postgres:
            stmt = text(
                "INSERT INTO search_document (entity, entity_id, document) "
                "VALUES (:e, :i, to_tsvector('simple', :d))"
            )
            params = [{"e": entity, "i": i, "d": d} for i, d in rows]
        else:
            stmt = text("INSERT INTO search_fts (rowid, body) VALUES (:r, :d)")
            params = [{"r": i * 4 + search.TAGS[entity], "d": d} for i, d in rows]
        for start in range(0, len(params), CHUNK):
            self.conn.execute(stmt, params[start : start + CHUNK])

    def finish(self) -> None:
        if self.postgres:
            for (table,) in self.conn.execute(
                text(
                    "SELECT table_name FROM information_schema.columns WHERE table_schema = "
                    "current_schema() AND column_name = 'id' AND column_default LIKE 'nextval%'"
                )
            ):
                self.conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                        f'(SELECT coalesce(max(id), 0) + 1 FROM "{table}"), false)'
                    )
                )


def generate(database_url: str, scale: float = 1.0, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Migrate the (empty) database at `database_url` and fill it; returns rows per table."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    migrate("head", database_url=database_url)
    engine: Engine = build_engine(database_url)
    try:
        with Session(engine) as session:
            if session.execute(select(func.count()).select_from(Course.__table__)).scalar():
                raise SystemExit("The database already holds courses; give an empty database.")
            loader.load(session, ROOT / "curricula")
        postgres = engine.dialect.name == "postgresql"
        with engine.begin() as conn:
            gen = Generator(conn, postgres, Volumes.at(scale), seed)
            gen.instruments()
            gen.courses()
            gen.links()
            gen.plans()
            gen.people()
            gen.training()
            gen.finish()
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
        tables = [
            Instrument,
            Provision,
            Course,
            CourseLink,
            CourseOutcome,
            Plan,
            PlanItem,
            Person,
            OrgUnit,
            Enrollment,
            TrainingRecord,
        ]
        with engine.connect() as conn:
            return {
                m.__tablename__: conn.execute(
                    select(func.count()).select_from(m.__table__)
                ).scalar()
                for m in tables
            }
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--database-url", required=True, help="an empty SQLite or PostgreSQL database"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="volume multiplier (default 1)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    start = time.perf_counter()
    counts = generate(args.database_url, args.scale, args.seed)
    took = time.perf_counter() - start
    print(f"scale {args.scale:g}, seed {args.seed}: generated in {took:.1f} s")
    for table, n in counts.items():
        print(f"  {table}: {n:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
