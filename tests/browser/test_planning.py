"""The HTML pages in a real browser: building, reviewing and approving a plan, stale edits,
inline form errors, and that every main page renders cleanly and can be used from the keyboard.

Only real clicks and typing, and Playwright's auto-waiting `expect`; never fixed sleeps.
"""

import re
import uuid

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

NUMBER = re.compile(r"^\s*(\d+)")


# ---- helpers -------------------------------------------------------------------------------


def watch(page: Page) -> list[str]:
    """Collects console errors, script errors and failed /static requests of the page."""
    problems: list[str] = []

    def console(message) -> None:
        # Chromium asks every site for /favicon.ico, which the app does not serve (404).
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            problems.append(f"console error on {page.url}: {message.text}")

    def failed(request) -> None:
        if "/static/" in request.url:
            problems.append(f"request failed: {request.url} ({request.failure})")

    def response(r) -> None:
        if "/static/" in r.url and r.status >= 400:
            problems.append(f"{r.status} for {r.url}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"script error on {page.url}: {error}"))
    page.on("requestfailed", failed)
    page.on("response", response)
    return problems


def sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    form = page.get_by_role("main").locator("form")
    form.get_by_label("User name").fill(username)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    header = page.get_by_role("banner")
    expect(header.get_by_role("button", name="Sign out")).to_be_visible()
    expect(header).to_contain_text(f"{username} ({username})")


def sign_out(page: Page) -> None:
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()


def create_plan(page: Page, name: str) -> str:
    """Fills the New plan form on /plans; returns the new plan's path."""
    page.goto("/plans")
    form = page.locator("form[aria-labelledby=new-plan]")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Audience").select_option("in_service")
    form.get_by_label("Academic year").fill("2027/2028")
    form.get_by_label("Terms").fill("2")
    form.get_by_label("Contact hours per term").fill("200")
    form.get_by_role("button", name="Create plan").click()
    expect(page).to_have_url(re.compile(r"/plans/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    expect(page.locator(".facts .status")).to_have_text("draft")
    return re.sub(r"^https?://[^/]+", "", page.url)


def hours(page: Page, selector: str) -> int:
    match = NUMBER.match(page.locator(selector).inner_text())
    assert match, f"no number in {selector}"
    return int(match.group(1))


def results(page: Page, term: int):
    # Through the term, not #results-N: the live search replaces that container (see
    # test_refining_a_search_updates_the_results).
    return page.locator(f"#term-{term} ul.search-results")


def search_and_pick(page: Page, term: int, words: str) -> str:
    """Types into the term's add box, waits for the live results, clicks the first enabled one."""
    page.get_by_label(f"Add a course to term {term}").press_sequentially(words, delay=20)
    pick = results(page, term).locator("button.pick:enabled").first
    expect(pick).to_be_visible()
    code = pick.locator(".code").inner_text()
    pick.click()
    expect(page.locator(f"#term-{term} li.item", has_text=code)).to_be_visible()
    return code


def type_code_and_add(page: Page, term: int, code: str) -> None:
    """The other way in: type a code and press Add (the form sends the page's revision)."""
    section = page.locator(f"#term-{term}")
    section.get_by_label(f"Add a course to term {term}").press_sequentially(code, delay=20)
    expect(results(page, term)).to_be_visible()  # the live search has answered
    section.get_by_role("button", name="Add", exact=True).click()


# ---- tests ---------------------------------------------------------------------------------


def test_build_and_approve_a_plan_in_the_browser(page: Page, live_server):
    problems = watch(page)
    sign_in(page, "planner")
    name = f"Browser plan {uuid.uuid4().hex[:6]}"
    path = create_plan(page, name)

    load1, load2 = page.locator("#term-1-load strong"), page.locator("#term-2-load strong")
    total, summary = page.locator("#total-hours"), page.locator("#validation-summary")
    findings = page.locator("ul.findings")
    expect(load1).to_have_text("0")
    expect(total).to_have_text(re.compile(r"^\s*0\b"))
    expect(findings).to_contain_text("term_empty")
    summary_at_start = summary.inner_text()

    first = search_and_pick(page, 1, "human rights")
    expect(load1).not_to_have_text("0")
    expect(total).not_to_have_text(re.compile(r"^\s*0\b"))
    t1 = hours(page, "#term-1-load strong")
    assert hours(page, "#total-hours") == t1

    second = search_and_pick(page, 2, "tactics")
    assert second != first
    expect(load2).not_to_have_text("0")
    t2 = hours(page, "#term-2-load strong")
    expect(total).to_have_text(re.compile(rf"^\s*{t1 + t2}\b"))
    # Both terms hold a course now: the empty-term warnings are gone.
    expect(page.locator("#workspace")).not_to_contain_text("term_empty")
    expect(summary).not_to_have_text(summary_at_start)

    # Move the term-2 course to term 1 with its select and Move button.
    item = page.locator("#term-2 li.item", has_text=second)
    item.get_by_label(f"Move {second} to term").select_option("1")
    item.get_by_role("button", name=re.compile(r"^Move")).click()
    expect(page.locator("#term-1 li.item", has_text=second)).to_be_visible()
    expect(page.locator("#term-2 li.item")).to_have_count(0)
    expect(load1).to_have_text(str(t1 + t2))
    expect(load2).to_have_text("0")
    expect(findings).to_contain_text("term_empty")
    expect(total).to_have_text(re.compile(rf"^\s*{t1 + t2}\b"))

    # Remove it again.
    moved = page.locator("#term-1 li.item", has_text=second)
    moved.get_by_role("button", name=re.compile(r"^Remove")).click()
    expect(page.locator("li.item", has_text=second)).to_have_count(0)
    expect(load1).to_have_text(str(t1))
    expect(total).to_have_text(re.compile(rf"^\s*{t1}\b"))

    workflow = page.locator("section.panel", has=page.locator("#workflow-h"))
    workflow.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".facts .status")).to_have_text("in review")
    expect(workflow.locator("ol.history")).to_contain_text("submit")
    expect(page.get_by_label("Add a course to term 1")).to_have_count(0)  # no longer editable

    sign_out(page)
    sign_in(page, "reviewer")
    page.goto(path)
    expect(page.locator(".facts .status")).to_have_text("in review")
    comment = f"Looks right to me ({uuid.uuid4().hex[:6]})."
    approve = workflow.locator("form", has=page.get_by_role("button", name="Approve"))
    approve.get_by_label("Comment").fill(comment)
    approve.get_by_role("button", name="Approve").click()
    expect(page.locator(".facts .status")).to_have_text("approved")
    expect(workflow.locator("ol.history")).to_contain_text(comment)
    expect(workflow.locator("ol.history li", has_text=comment)).to_contain_text("reviewer")

    # Written, not only swapped in: a reload shows the same.
    page.reload()
    expect(page.locator(".facts .status")).to_have_text("approved")
    expect(page.locator("ol.history")).to_contain_text(comment)
    expect(page.locator("li.item", has_text=first)).to_be_visible()
    assert not problems, "\n".join(problems)


def test_stale_edit_shows_message(new_context, live_server):
    first, second = new_context().new_page(), new_context().new_page()
    sign_in(first, "planner")
    sign_in(second, "planner")
    path = create_plan(first, f"Stale plan {uuid.uuid4().hex[:6]}")
    second.goto(path)
    expect(second.get_by_label("Add a course to term 1")).to_be_visible()

    type_code_and_add(first, 1, "HR-101")
    expect(first.locator("#term-1 li.item", has_text="HR-101")).to_be_visible()

    # The second page still shows the plan as it was; its add is refused, and the page is
    # brought up to date with the first context's course.
    expect(second.locator("li.item")).to_have_count(0)
    type_code_and_add(second, 2, "TA-101")
    expect(second.get_by_role("alert")).to_contain_text("Someone else changed this plan")
    expect(second.locator("#term-1 li.item", has_text="HR-101")).to_be_visible()
    expect(second.locator("#term-2 li.item")).to_have_count(0)

    # Nothing of the refused change was written.
    first.reload()
    expect(first.locator("li.item")).to_have_count(1)
    expect(first.locator("#term-1 li.item", has_text="HR-101")).to_be_visible()


def test_course_edit_shows_inline_error(page: Page, live_server):
    sign_in(page, "planner")
    page.goto("/courses/HR-101/edit")
    new_title = f"Edited in a browser {uuid.uuid4().hex[:6]}"
    page.get_by_label("Title").fill(new_title)
    page.get_by_label("Seminar hours").fill("7")
    page.get_by_label("Lecture hours").fill("-5")
    page.get_by_role("button", name="Save changes").click()

    lecture = page.get_by_label("Lecture hours")
    error = page.locator("#e-lecture_hours")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    expect(lecture).to_have_attribute("aria-invalid", "true")
    expect(lecture).to_have_attribute("aria-describedby", re.compile(r"\be-lecture_hours\b"))
    expect(lecture).to_have_value("-5")
    expect(page.get_by_label("Title")).to_have_value(new_title)
    expect(page.get_by_label("Seminar hours")).to_have_value("7")
    expect(page.get_by_label("Seminar hours")).not_to_have_attribute("aria-invalid", "true")

    # Nothing was saved.
    page.goto("/courses/HR-101")
    expect(page.get_by_role("heading", level=1)).not_to_contain_text(new_title)


def test_pages_render_and_are_keyboard_usable(page: Page, live_server):
    problems = watch(page)
    sign_in(page, "planner")

    def visit(name: str, path: str) -> None:
        response = page.goto(path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        expect(page.locator("main#main")).to_be_visible()
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.screenshot(path=live_server.screenshot_path(name), full_page=True)

    main = page.get_by_role("main")
    visit("home", "/")
    visit("catalogue", "/courses")
    main.locator("a[href$='/courses/HR-101']").first.click()
    expect(page).to_have_url(re.compile(r"/courses/HR-101$"))
    visit("course", "/courses/HR-101")
    visit("instruments", "/instruments")
    href = main.locator("a[href*='/instruments/']").first.get_attribute("href")
    assert href, "no instrument link on /instruments"
    visit("instrument", href)
    visit("coverage", "/coverage")
    visit("plans", "/plans")
    href = main.locator("table a[href*='/plans/']").first.get_attribute("href")
    assert href, "no plan link on /plans"
    visit("plan-builder", href)
    page.set_viewport_size({"width": 390, "height": 844})
    visit("plan-builder-phone", href)

    # The skip link takes keyboard users past the header.
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    assert not problems, "\n".join(problems)


# ---- live search, on both databases ----------------------------------------------------------


def test_live_search_finds_a_course_by_its_code(page: Page, live_server):
    sign_in(page, "planner")
    create_plan(page, f"Code search {uuid.uuid4().hex[:6]}")
    page.get_by_label("Add a course to term 1").press_sequentially("TA-101", delay=20)
    found = results(page, 1).locator("button.pick .code", has_text=re.compile(r"^TA-101$"))
    expect(found).to_have_count(1, timeout=3000)


def test_refining_a_search_updates_the_results(page: Page, live_server):
    sign_in(page, "planner")
    create_plan(page, f"Refined search {uuid.uuid4().hex[:6]}")
    box = page.get_by_label("Add a course to term 1")
    box.press_sequentially("human", delay=20)
    expect(page.get_by_role("list", name="Courses matching human")).to_be_visible()
    box.press_sequentially(" rights", delay=20)
    expect(
        page.locator("#results-1").get_by_role("list", name="Courses matching human rights")
    ).to_be_visible(timeout=3000)
