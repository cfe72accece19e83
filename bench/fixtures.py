"""Scratch databases for the benchmarks: migrated, loaded with the shipped curricula, plus a
synthetic 60-course, 6-term draft plan built through the services."""

import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, func, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, select

from app.cli import migrate
from app.config import ROOT
from app.db import build_engine
from app.models.common import Bloom, CourseStatus, Depth, Domain, Level, LinkKind
from app.models.courses import Course, CourseCreate, CourseLink, HoursIn, LinkIn, Outcome
from app.models.instruments import Instrument, Provision
from app.models.plans import GroupIn, ItemIn, LanguageTarget, Plan, PlanCreate, PlanItem
from app.services import courses, loader, plan_workflow, plans

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

TERMS, PER_TERM = 6, 10
PLAN_CODE = "bench-60"
# term -> (group key, name, choose, how many of the term's courses are options of the group)
ELECTIVES = {
    2: ("t2-options", "Term 2 option (choose 1 of 3)", 1, 3),
    4: ("t4-options", "Term 4 options (choose 2 of 4)", 2, 4),
    6: ("t6-options", "Term 6 option (choose 1 of 3)", 1, 3),
}
REQUIRED = [
    "udhr-1948",
    "iccpr-1966",
    "cat-1984",
    "ccleo-1979",
    "bpuff-1990",
    "body-of-principles-1988",
    "untoc-2000",
    "budapest-2001",
]
CEFR_BY_TERM = {1: "A1", 2: "A2", 3: "B1", 4: "B1", 5: "B2", 6: "B2"}
DOMAINS = [d for d in Domain if d != Domain.foreign_languages]
DEPTHS = [
    Depth.introduced,
    Depth.introduced,
    Depth.reinforced,
    Depth.reinforced,
    Depth.mastered,
    Depth.mastered,
]


@dataclass
class BenchDB:
    backend: str
    url: str
    engine: Engine
    plan_id: int
    raw: object  # a DB-API connection (sqlite3 or psycopg) for the raw-SQL baselines
    server_version: str


def postgres_version() -> str | None:
    """The server version, or None if the local PostgreSQL does not answer."""
    try:
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3
        ) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except psycopg.Error:
        return None


def _code(n: int) -> str:
    return f"BX-{n:03d}"


def _place(n: int) -> tuple[int, int, str | None]:
    """Course n (1-based) -> (term, slot in the term, elective group key or None)."""
    term, slot = (n - 1) // PER_TERM + 1, (n - 1) % PER_TERM
    group = ELECTIVES.get(term)
    return term, slot, group[0] if group and slot >= PER_TERM - group[3] else None


def _course(n: int) -> CourseCreate:
    term, slot, _ = _place(n)
    language = slot == 0
    domain = Domain.foreign_languages if language else DOMAINS[n % len(DOMAINS)]
    # Slots 0-3 build on the same slot of the previous term (a chain per track).
    prerequisites = [_code(n - PER_TERM)] if term > 1 and slot <= 3 else []
    return CourseCreate(
        code=_code(n),
        title=f"Synthetic {domain.value.replace('_', ' ')} course {n} (term {term})",
        domain=domain,
        level=Level.initial,
        status=CourseStatus.approved,
        description=f"Benchmark course {n}: a realistic-sized description. " * 6,
        hours=HoursIn(lecture=14 + 2 * (n % 3), seminar=12, practical=8, self_study=36),
        credits=2,
        target_language="en" if language else None,
        cefr_level=CEFR_BY_TERM[term] if language else None,
        outcomes=[
            Outcome(text=f"Outcome {k} of course {n}: apply the standard to a case.", bloom=b)
            for k, b in enumerate((Bloom.understand, Bloom.apply, Bloom.analyse), start=1)
        ],
        topics=[f"Topic {k} of course {n}" for k in range(1, 7)],
        assessment="Written examination (60%) and a practical case exercise (40%).",
        references=["OHCHR, Human Rights and Law Enforcement, Professional Training Series No. 5"],
        prerequisites=prerequisites,
    )


def _links(
    n: int,
    instrument_id: dict[str, int],
    provisions: dict[int, list[tuple[int, str]]],
    others: list[str],
) -> list[tuple[int, int | None, LinkIn]]:
    """Each course teaches one required instrument (and one of its articles), assesses another,
    and references one instrument outside the plan's required list."""
    term = (n - 1) // PER_TERM + 1
    depth = DEPTHS[term - 1]
    taught, assessed = REQUIRED[n % len(REQUIRED)], REQUIRED[(n + 3) % len(REQUIRED)]
    tid = instrument_id[taught]
    out = [
        (tid, None, LinkIn(target=taught, kind=LinkKind.teaches, depth=depth, hours=4)),
        (
            instrument_id[assessed],
            None,
            LinkIn(target=assessed, kind=LinkKind.assesses, depth=depth, hours=2),
        ),
        (
            instrument_id[others[n % len(others)]],
            None,
            LinkIn(
                target=others[n % len(others)],
                kind=LinkKind.references,
                depth=Depth.introduced,
                hours=0,
            ),
        ),
    ]
    if provisions.get(tid):
        pid, pcode = provisions[tid][n % len(provisions[tid])]
        out.append((tid, pid, LinkIn(target=pcode, kind=LinkKind.teaches, depth=depth, hours=2)))
    return out


def build_plan(engine: Engine) -> int:
    """60 approved synthetic courses and a draft plan holding all of them; returns the plan id."""
    with Session(engine, expire_on_commit=False) as session:
        instrument_id = dict(session.exec(select(Instrument.code, Instrument.id)).all())
        provisions: dict[int, list[tuple[int, str]]] = {}
        for pid, pcode, iid in session.exec(
            select(Provision.id, Provision.code, Provision.instrument_id).order_by(
                Provision.position
            )
        ):
            provisions.setdefault(iid, []).append((pid, pcode))
        others = sorted(c for c in instrument_id if c not in REQUIRED)
        for n in range(1, TERMS * PER_TERM + 1):
            course = courses.create(session, _course(n), actor="bench", commit=False)
            courses.replace_links(session, course, _links(n, instrument_id, provisions, others))
        session.commit()

        plan = plans.create(
            session,
            PlanCreate(
                code=PLAN_CODE,
                name="Benchmark programme: 60 courses over 6 terms",
                description="Synthetic draft plan for the benchmarks.",
                audience=Level.initial,
                academic_year="2027/2028",
                terms=TERMS,
                term_hour_budget=400,
                total_hour_budget=2300,
                language_target=LanguageTarget(language="en", cefr_level="B2"),
                required_instruments=REQUIRED,
                elective_groups=[
                    GroupIn(key=k, name=name, choose=c) for k, name, c, _ in ELECTIVES.values()
                ],
            ),
            actor="bench",
        )
        for n in range(1, TERMS * PER_TERM + 1):
            term, _, group = _place(n)
            plans.add_item(
                session,
                plan,
                ItemIn(course_code=_code(n), term=term, elective_group=group),
                expected=None,
                actor="bench",
            )
        return plan.id


def describe(db: BenchDB) -> str:
    """One line on what the scratch database holds, and what validating the plan finds."""
    with Session(db.engine) as s:
        n = {
            m.__name__: s.exec(select(func.count()).select_from(m)).one()
            for m in (Instrument, Provision, Course, CourseLink, PlanItem)
        }
        plan = s.get(Plan, db.plan_id)
        items = s.exec(select(func.count()).where(col(PlanItem.plan_id) == plan.id)).one()
        result = plan_workflow.validate(s, plan)
    return (
        f"{n['Instrument']} instruments, {n['Provision']} provisions, {n['Course']} courses, "
        f"{n['CourseLink']} course links, {n['PlanItem']} plan items; plan {plan.code} (id {plan.id}, "
        f"{plan.status}): {items} items, {plan.terms} terms, {len(ELECTIVES)} elective groups, "
        f"{len(REQUIRED)} required instruments; validation: {result.errors} error(s), "
        f"{result.warnings} warning(s)"
    )


def _populate(url: str) -> tuple[Engine, int]:
    migrate("head", database_url=url)
    engine = build_engine(url)
    with Session(engine) as session:
        loader.load(session, ROOT / "curricula")
    return engine, build_plan(engine)


@contextmanager
def scratch_database(backend: str, pg_version: str | None = None) -> Iterator[BenchDB]:
    """A migrated, loaded scratch database of `backend`, removed on exit."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="planner-bench-") as tmp:
            path = Path(tmp) / "bench.db"
            url = f"sqlite:///{path}"
            engine, plan_id = _populate(url)
            raw = sqlite3.connect(path)
            try:
                yield BenchDB(backend, url, engine, plan_id, raw, sqlite3.sqlite_version)
            finally:
                raw.close()
                engine.dispose()
        return

    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = raw = None
    try:
        engine, plan_id = _populate(url)
        raw = psycopg.connect(
            f"host=127.0.0.1 port=5432 user=postgres dbname={name}", autocommit=True
        )
        yield BenchDB(backend, url, engine, plan_id, raw, pg_version or "?")
    finally:
        if raw is not None:
            raw.close()
        if engine is not None:
            engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
