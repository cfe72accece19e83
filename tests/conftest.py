"""Every test that touches data runs once on SQLite and once on PostgreSQL.

The schema is built with Alembic (never create_all) and the shipped curricula are loaded once per
backend; each test then runs inside a transaction that is rolled back, so tests never see each
other's writes and never touch a developer's database.
"""

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

# Before the app is imported: the suite never touches the developer's database or secret.
os.environ["PLANNER_DATABASE_URL"] = (
    f"sqlite:///{tempfile.gettempdir()}/planner-tests-unused-{os.getpid()}.db"
)
os.environ["PLANNER_SECRET_KEY"] = "tests-only-" + uuid.uuid4().hex + uuid.uuid4().hex
os.environ.pop("PLANNER_ADMIN_PASSWORD", None)

import pytest  # noqa: E402
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from app.cli import migrate  # noqa: E402
from app.config import ROOT  # noqa: E402
from app.db import build_engine, get_session  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models.accounts import ClientCreate, Role, Scope, UserCreate  # noqa: E402
from app.services import accounts, loader  # noqa: E402

PASSWORD = "correct horse battery staple"
TOKENS: dict[str, str] = {}  # backend -> bearer token holding every scope

IN_CI = os.environ.get("CI", "").lower() == "true"


def postgres_url() -> str | None:
    """The server to test against: PLANNER_TEST_POSTGRES_URL, or the local one if it answers."""
    url = os.environ.get("PLANNER_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    except OSError:
        return None


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"PostgreSQL tests must run in CI: {reason}")
    pytest.skip(reason)


class ScratchDatabases:
    """Creates throw-away databases on a backend and drops them at the end of the run."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.created: list[str] = []

    def new(self, backend: str) -> str:
        name = f"planner_test_{uuid.uuid4().hex[:10]}"
        if backend == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.db')}"
        base = postgres_url()
        if base is None:
            _unavailable("no PostgreSQL server (set PLANNER_TEST_POSTGRES_URL)")
        admin = build_engine(base).execution_options(isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # noqa: BLE001 - any failure means the server is not usable
            _unavailable(f"cannot create a PostgreSQL test database: {exc}")
        finally:
            admin.dispose()
        self.created.append(name)
        return make_url(base).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = build_engine(postgres_url()).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def scratch(tmp_path_factory) -> Iterator[ScratchDatabases]:
    dbs = ScratchDatabases(tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def engine(backend, scratch) -> Iterator[Engine]:
    """A migrated database holding the shipped curricula, shared by the tests of one backend."""
    url = scratch.new(backend)
    migrate("head", database_url=url)
    eng = build_engine(url)
    with Session(eng) as session:
        loader.load(session, ROOT / "curricula")
        for role in Role:
            accounts.create_user(
                session,
                UserCreate(username=role.value, role=role, password=PASSWORD),
                actor="tests",
            )
        _, token = accounts.create_client(
            session, ClientCreate(name="test-suite", scopes=list(Scope)), actor="tests"
        )
    TOKENS[backend] = token
    yield eng
    eng.dispose()


@pytest.fixture
def fresh_url(backend, scratch) -> str:
    """An empty, unmigrated database of the current backend, for tests that need one."""
    return scratch.new(backend)


@pytest.fixture
def db(engine) -> Iterator[Session]:
    """A session whose commits are savepoints inside a transaction rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield session
    session.close()
    outer.rollback()
    connection.close()


@pytest.fixture
def app(db):
    application = create_app(first_run=False)

    def _session() -> Iterator[Session]:
        try:
            yield db
        except Exception:
            db.rollback()  # as the real dependency does: the request's writes are undone
            raise

    application.dependency_overrides[get_session] = _session
    return application


@pytest.fixture
def client(app, backend) -> Iterator[TestClient]:
    """A machine client holding every scope."""
    with TestClient(
        app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {TOKENS[backend]}"}
    ) as c:
        c.get(
            "/api/v1/plans", params={"limit": 1}
        )  # notes the token's first use, so query counts are steady
        yield c


@pytest.fixture
def anon(app) -> Iterator[TestClient]:
    """Nobody: no token, no session."""
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def browser_as(app):
    """`browser_as("planner")`: a cookie client signed in through the login form as that role."""
    from tests.factories import sign_in

    opened = []

    def _open(role: str) -> TestClient:
        c = TestClient(app, raise_server_exceptions=False)
        opened.append(c)
        sign_in(c, role, PASSWORD)
        return c

    yield _open
    for c in opened:
        c.close()


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.strip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            return
        self.count += 1
        self.statements.append(statement)


@pytest.fixture
def count_queries(engine):
    """Call as `with count_queries() as counter:`; counter.count is the statements sent."""
    from contextlib import contextmanager

    @contextmanager
    def _count():
        counter = QueryCounter()
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    return _count
