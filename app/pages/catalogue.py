"""Course catalogue pages: the searchable list, the course page, and the create and edit forms."""

import re
from collections import defaultdict
from typing import Annotated

from babel import Locale
from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session, col, select

from app.db import SessionDep
from app.errors import Conflict, Invalid, PreconditionFailed
from app.i18n import locale_of, translations
from app.models.accounts import Scope
from app.models.common import Bloom, Cefr, CourseStatus, Domain, Level
from app.models.courses import Course, CourseCreate, CourseRead, CourseUpdate, LinkRead
from app.models.instruments import Instrument, Provision
from app.models.plans import Plan, PlanItem
from app.pages.forms import field_errors
from app.pages.render import is_htmx, render
from app.security import AUDIT_READ, CatalogRead, CatalogWrite
from app.services import audit, courses

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE_SIZE = 50
HOURS = ("lecture", "seminar", "practical", "self_study")
LISTS = ("outcomes", "topics", "references", "prerequisites")
Filter = Annotated[str, Query(max_length=64)]


def load_course(session: SessionDep, code: Annotated[str, Path(max_length=16)]) -> Course:
    return courses.get(session, code)


CourseDep = Annotated[Course, Depends(load_course)]


def choice(value: str, vocabulary: type) -> str:
    """A filter value from a select, or "" when it is empty or not in the vocabulary."""
    return value if value in {v.value for v in vocabulary} else ""


def language_namer(request: Request):
    """Language codes to names in the page's language (Babel's CLDR data)."""
    names = Locale.parse(locale_of(request)).languages
    return lambda code: names.get(code, code) if code else ""


def wants_results(request: Request) -> bool:
    # htmx's history restore (a cache miss on Back) needs the whole page, not the region.
    return is_htmx(request) and request.headers.get("hx-history-restore-request") != "true"


# ---- list ----------------------------------------------------------------------------------


def instrument_choices(session: Session) -> list[tuple[str, str]]:
    """(code, short title) of every instrument, for the filter's select."""
    rows = session.exec(
        select(Instrument.code, Instrument.short_title).order_by(Instrument.short_title)
    )
    return list(rows.all())


def page_links(request: Request, filters: dict[str, str], offset: int, total: int) -> dict:
    base = request.url_for("course_list").include_query_params(
        **{k: v for k, v in filters.items() if v}
    )

    def at(o: int) -> str:
        return str(base.include_query_params(offset=o) if o else base)

    return {
        "first": min(offset + 1, total),
        "last": min(offset + PAGE_SIZE, total),
        "prev": at(max(offset - PAGE_SIZE, 0)) if offset > 0 else None,
        "next": at(offset + PAGE_SIZE) if offset + PAGE_SIZE < total else None,
    }


@router.get("/courses", response_class=HTMLResponse)
def course_list(
    principal: CatalogRead,
    request: Request,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    domain: Filter = "",
    level: Filter = "",
    status: Filter = "",
    instrument: Filter = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
):
    public_only = not principal.sees_all_courses
    filters = {
        "q": q.strip(),
        "domain": choice(domain, Domain),
        "level": choice(level, Level),
        "status": "" if public_only else choice(status, CourseStatus),
        "instrument": instrument.strip(),
    }
    rows, total = courses.list_courses(
        session,
        **{k: v or None for k, v in filters.items()},
        limit=PAGE_SIZE,
        offset=offset,
        public_only=public_only,
    )
    ctx = {
        "courses": [courses.summary(c) for c in rows],
        "total": total,
        "filters": filters,
        "pages": page_links(request, filters, offset, total),
    }
    if wants_results(request):
        return render(request, "courses/_results.html", ctx)
    ctx |= {
        "htmx": False,
        "public_only": public_only,
        "can_write": principal.can(Scope.catalog_write),
        "domains": list(Domain),
        "levels": list(Level),
        "statuses": list(CourseStatus),
        "instruments": instrument_choices(session),
    }
    return render(request, "courses/list.html", ctx)


# ---- course page ---------------------------------------------------------------------------


def link_groups(session: Session, links: list[LinkRead]) -> list[dict]:
    """The course's links grouped by instrument, with titles and provision headings (one query)."""
    if not links:
        return []
    rows = session.exec(
        select(
            Instrument.code,
            Instrument.short_title,
            Instrument.title,
            Provision.code,
            Provision.number,
            Provision.heading,
        )
        .outerjoin(
            Provision,
            (col(Provision.instrument_id) == Instrument.id)
            & col(Provision.code).in_({lr.provision for lr in links if lr.provision}),
        )
        .where(col(Instrument.code).in_({lr.instrument for lr in links}))
    ).all()
    titles = {code: (short, title) for code, short, title, *_ in rows}
    provisions = {pcode: (number, heading) for *_, pcode, number, heading in rows if pcode}
    by_code: dict[str, list[LinkRead]] = defaultdict(list)
    for link in links:
        by_code[link.instrument].append(link)
    return [
        {
            "code": code,
            "short_title": titles.get(code, (code, code))[0],
            "title": titles.get(code, (code, code))[1],
            "links": [(lr, provisions.get(lr.provision)) for lr in group],
        }
        for code, group in by_code.items()
    ]


def plans_using(session: Session, course_id: int) -> list:
    """The plans (every version) that place this course, with the term (one query)."""
    return list(
        session.exec(
            select(
                Plan.id,
                Plan.code,
                Plan.version,
                Plan.name,
                Plan.academic_year,
                Plan.status,
                PlanItem.term,
                PlanItem.mandatory,
            )
            .join(PlanItem, col(PlanItem.plan_id) == Plan.id)
            .where(PlanItem.course_id == course_id)
            .order_by(Plan.code, col(Plan.version).desc(), PlanItem.term)
        ).all()
    )


def public_codes(session: Session, codes: list[str]) -> set[str]:
    """Which of these course codes the public may see (prerequisite links must not leak drafts)."""
    if not codes:
        return set()
    return set(
        session.exec(
            select(Course.code).where(col(Course.code).in_(codes)).where(courses.public_course())
        ).all()
    )


# Declared before /courses/{code}, so that "new" is never read as a course code.
@router.get("/courses/new", response_class=HTMLResponse)
def course_new(principal: CatalogWrite, request: Request):
    values = {"status": CourseStatus.draft.value, "language_of_instruction": "uz", "credits": "0"}
    values |= {f"{h}_hours": "0" for h in HOURS}
    return form_page(request, values=values, errors={})


@router.get("/courses/{code}", response_class=HTMLResponse)
def course_detail(principal: CatalogRead, request: Request, session: SessionDep, course: CourseDep):
    public_only = not principal.sees_all_courses
    courses.ensure_visible(course, public_only=public_only)
    read = courses.detail(session, course)
    if public_only:
        visible = public_codes(session, read.prerequisites + read.required_by)
        read.prerequisites = [c for c in read.prerequisites if c in visible]
        read.required_by = [c for c in read.required_by if c in visible]
    ctx = {
        "course": read,
        "groups": link_groups(session, read.links),
        "can_write": principal.can(Scope.catalog_write),
        "language_name": language_namer(request),
        "plans": plans_using(session, course.id) if principal.can(Scope.plans_read) else None,
        "history": audit.history(session, entity="course", key=course.code)
        if principal.can(AUDIT_READ)
        else None,
    }
    return render(request, "courses/detail.html", ctx)


# ---- create and edit -----------------------------------------------------------------------


class CourseForm(BaseModel):
    """The course form as typed: text until parsed, so that a rejected form comes back as typed."""

    code: str = Field("", max_length=100)
    title: str = Field("", max_length=1000)
    domain: str = Field("", max_length=64)
    level: str = Field("", max_length=64)
    status: str = Field("", max_length=64)
    restricted: str = Field("", max_length=10)
    description: str = Field("", max_length=20000)
    lecture_hours: str = Field("", max_length=20)
    seminar_hours: str = Field("", max_length=20)
    practical_hours: str = Field("", max_length=20)
    self_study_hours: str = Field("", max_length=20)
    credits: str = Field("", max_length=20)
    language_of_instruction: str = Field("", max_length=20)
    target_language: str = Field("", max_length=20)
    cefr_level: str = Field("", max_length=20)
    outcomes: str = Field("", max_length=100_000)
    topics: str = Field("", max_length=100_000)
    assessment: str = Field("", max_length=20000)
    references: str = Field("", max_length=50_000)
    prerequisites: str = Field("", max_length=2000)
    version: str = Field("", max_length=20)


CourseFormDep = Annotated[CourseForm, Form()]


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def course_body(form: CourseForm, gettext) -> tuple[dict, dict[str, str]]:
    """The form as a CourseCreate body, and the errors found while splitting its lines."""
    _ = gettext
    errors: dict[str, str] = {}
    outcomes = []
    for n, line in enumerate(lines(form.outcomes), start=1):
        bloom, sep, text = line.partition(":")
        if not sep or bloom.strip().lower() not in {b.value for b in Bloom}:
            errors.setdefault(
                "outcomes",
                _("Line %(n)d: start with a Bloom level and a colon, as in “apply: …”.") % {"n": n},
            )
        outcomes.append({"bloom": bloom.strip().lower(), "text": text.strip()})
    body = {
        "code": form.code.strip().upper(),
        "title": form.title,
        "domain": form.domain or None,
        "level": form.level or None,
        "status": form.status or None,
        "restricted": form.restricted in ("true", "on", "1"),
        "description": form.description.strip(),
        "hours": {h: getattr(form, f"{h}_hours").strip() or 0 for h in HOURS},
        "credits": form.credits.strip() or 0,
        "language_of_instruction": form.language_of_instruction.strip(),
        "target_language": form.target_language.strip() or None,
        "cefr_level": form.cefr_level or None,
        "outcomes": outcomes,
        "topics": lines(form.topics),
        "assessment": form.assessment.strip(),
        "references": lines(form.references),
        "prerequisites": [c.upper() for c in re.split(r"[,;\s]+", form.prerequisites) if c],
    }
    for name in ("status", "language_of_instruction"):  # left empty: the default, or unchanged
        if not body[name]:
            del body[name]
    return body, errors


def form_errors(errors: dict[str, str], gettext) -> dict[str, str]:
    """Errors keyed by validation path ("hours.lecture", "topics.2") to the form's field names."""
    out: dict[str, str] = {}
    for key, message in errors.items():
        head, _, rest = key.partition(".")
        if head == "hours" and rest:
            head = rest.partition(".")[0] + "_hours"
        elif head in LISTS and rest.partition(".")[0].isdigit():
            n = int(rest.partition(".")[0]) + 1
            message = gettext("Item %(n)d: %(message)s") % {"n": n, "message": message}
        elif head == "__all__" and "prerequisite" in message:
            head = "prerequisites"  # model-level rules belong next to the field they are about
        elif head == "__all__" and "cefr_level" in message:
            head = "cefr_level"
        out.setdefault(head, message)
    order = ["__all__", *CourseForm.model_fields]  # the summary lists them as the form does
    return dict(sorted(out.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))


def plain_message(err: dict, gettext) -> str:
    """Pydantic's message, or a plainer one for the mistakes people make most."""
    field = str(err["loc"][0]) if err["loc"] else ""
    if err["type"] == "enum":
        return gettext("Choose one of the options.")
    if err["type"] == "string_pattern_mismatch" and field in ("code", "prerequisites"):
        return gettext("Write a course code: two to four capital letters, a hyphen, three digits.")
    if err["type"] == "string_pattern_mismatch":
        return gettext("Write a two-letter lower-case language code, such as uz.")
    return err["msg"].removeprefix("Value error, ")


def validate(request: Request, model: type[BaseModel], form: CourseForm, *, create: bool):
    gettext = translations(locale_of(request)).gettext
    body, errors = course_body(form, gettext)
    if not create:
        del body["code"]
    invalid: dict[str, str] = {}
    try:
        data = model.model_validate(body)
    except ValidationError as exc:
        data = None
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "__all__"
            invalid.setdefault(key, plain_message(err, gettext))
    errors = form_errors({**errors, **invalid}, gettext)  # ours first: they name the line
    return (None if errors else data), errors


def form_values(course: CourseRead) -> dict[str, str]:
    """A stored course as the form shows it."""
    return {
        "title": course.title,
        "domain": course.domain.value,
        "level": course.level.value,
        "status": course.status.value,
        "restricted": "true" if course.restricted else "",
        "description": course.description,
        **{f"{h}_hours": str(getattr(course.hours, h)) for h in HOURS},
        "credits": f"{course.credits:g}",
        "language_of_instruction": course.language_of_instruction,
        "target_language": course.target_language or "",
        "cefr_level": course.cefr_level.value if course.cefr_level else "",
        "outcomes": "\n".join(f"{o.bloom.value}: {o.text}" for o in course.outcomes),
        "topics": "\n".join(course.topics),
        "assessment": course.assessment,
        "references": "\n".join(course.references),
        "prerequisites": ", ".join(course.prerequisites),
        "version": str(course.version),
    }


def form_page(request: Request, *, values, errors, course: Course | None = None, status=200):
    ctx = {
        "course": course,
        "values": values,
        "errors": errors,
        "domains": list(Domain),
        "levels": list(Level),
        "statuses": list(CourseStatus),
        "cefrs": list(Cefr),
        "blooms": list(Bloom),
    }
    return render(request, "courses/form.html", ctx, status=status)


@router.post("/courses", response_class=HTMLResponse)
def course_create(
    principal: CatalogWrite, request: Request, session: SessionDep, form: CourseFormDep
):
    data, errors = validate(request, CourseCreate, form, create=True)
    if not errors:
        try:
            course = courses.create(session, data, actor=principal.actor)
        except (Invalid, Conflict) as exc:
            session.rollback()  # the service flushed before it refused; keep nothing of it
            errors = form_errors(field_errors(exc), translations(locale_of(request)).gettext)
    if errors:
        return form_page(request, values=form.model_dump(), errors=errors, status=422)
    return RedirectResponse(request.url_for("course_detail", code=course.code), status_code=303)


@router.get("/courses/{code}/edit", response_class=HTMLResponse)
def course_edit(principal: CatalogWrite, request: Request, session: SessionDep, course: CourseDep):
    values = form_values(courses.detail(session, course))
    return form_page(request, values=values, errors={}, course=course)


def stale_page(request: Request, session: Session, code: str):
    """The form refilled with the course as it is now, and why the edit was refused."""
    course = courses.get(session, code)
    message = translations(locale_of(request)).gettext(
        "Someone else changed this course since you opened it. Your changes were not saved: "
        "the form now shows the current version; make your changes again and save."
    )
    values = form_values(courses.detail(session, course))
    return form_page(request, values=values, errors={"__all__": message}, course=course, status=412)


@router.post("/courses/{code}/edit", response_class=HTMLResponse)
def course_update(
    principal: CatalogWrite,
    request: Request,
    session: SessionDep,
    course: CourseDep,
    form: CourseFormDep,
):
    # Without the version the form was opened at, a save could undo someone else's change.
    expected = int(form.version) if form.version.isdigit() else 0
    if expected != course.version:
        return stale_page(request, session, course.code)
    data, errors = validate(request, CourseUpdate, form, create=False)
    if not errors:
        try:
            courses.update_course(session, course, data, expected=expected, actor=principal.actor)
        except PreconditionFailed:
            session.rollback()
            return stale_page(request, session, course.code)
        except (Invalid, Conflict) as exc:
            session.rollback()
            errors = form_errors(field_errors(exc), translations(locale_of(request)).gettext)
    if errors:
        values = {**form.model_dump(), "code": course.code}
        return form_page(request, values=values, errors=errors, course=course, status=422)
    return RedirectResponse(request.url_for("course_detail", code=course.code), status_code=303)
