"""Real-browser fixtures: a live `planner serve` per backend, Debian's Chromium, a page per test.

The server runs as a subprocess on a scratch database of the current backend (migrated, loaded
with the shipped curricula, with a `planner` and a `reviewer` account), so the browser talks to the
application exactly as a user would. Screenshots go to test-output/screenshots/.
"""

import json
import os
import secrets
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI, PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT = 30.0
ROLES = ("planner", "reviewer")  # each user is named after its role


@dataclass
class LiveServer:
    backend: str
    url: str  # http://127.0.0.1:PORT, no trailing slash
    log: Path

    def screenshot_path(self, name: str) -> str:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return str(SCREENSHOTS / f"{self.backend}-{name}.png")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# `python -m app.cli` once per command costs seconds of imports each; this runs the same
# commands through the CLI's own entry point in one interpreter, stopping at the first failure.
SET_UP = """
import json, sys
from app.cli import main
for args in json.loads(sys.argv[1]):
    code = main(args)
    if code:
        sys.exit(f"planner {' '.join(args)} exited {code}")
"""


def _cli(env: dict[str, str], commands: list[list[str]], stdin: str = "") -> None:
    done = subprocess.run(
        [sys.executable, "-c", SET_UP, json.dumps(commands)],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if done.returncode != 0:
        pytest.fail(f"setting up the database failed:\n{done.stdout}\n{done.stderr}")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def live_server(backend, scratch) -> Iterator[LiveServer]:
    """`planner serve` on a fresh, loaded database of this backend; stopped after the session."""
    database_url = scratch.new(backend)
    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(48))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PLANNER_") or k == "PLANNER_TEST_POSTGRES_URL"
    }
    env |= {
        "PLANNER_DATABASE_URL": database_url,
        "PLANNER_SECRET_KEY": secret,
        "PLANNER_LOG_LEVEL": "warning",
        "PYTHONUNBUFFERED": "1",
    }
    # migrate, load the shipped curricula, then one user per role (password on stdin).
    users = [["user", "create", name, "--role", name] for name in ROLES]
    _cli(env, [["migrate"], ["load"], *users], stdin=f"{PASSWORD}\n" * len(users))

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_fd, log_name = tempfile.mkstemp(prefix=f"planner-browser-{backend}-", suffix=".log")
    log = Path(log_name)
    with os.fdopen(log_fd, "w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _healthy(url):
            if proc.poll() is not None:
                pytest.fail(f"the server exited {proc.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"no answer from {url}/healthz in {STARTUP_TIMEOUT:.0f} s:\n{log.read_text()}"
                )
            time.sleep(0.1)
        yield LiveServer(backend=backend, url=url, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright (never a downloaded browser)."""
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI") == "true" or IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser, live_server):
    """`new_context(**options)`: a fresh browser context (own cookies) on the live server."""
    opened = []

    def _open(**options):
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(10_000)
        opened.append(context)
        return context

    yield _open
    for context in opened:
        context.close()


@pytest.fixture
def page(new_context):
    """A new page in a new 1280x900 context, for one test."""
    return new_context().new_page()
