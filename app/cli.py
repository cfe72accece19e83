"""The `planner` command: serve, migrate, load."""

import argparse
import sys
from pathlib import Path

from app.config import ROOT, get_settings


def alembic_config(database_url: str | None = None):
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option(
        "sqlalchemy.url", (database_url or get_settings().database_url).replace("%", "%%")
    )
    return cfg


def migrate(revision: str = "head", database_url: str | None = None) -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def _cmd_migrate(args: argparse.Namespace) -> int:
    migrate(args.revision)
    print(f"database at {args.revision}")
    return 0


def _cmd_load(args: argparse.Namespace) -> int:
    from sqlmodel import Session, func, select

    from app.db import get_engine
    from app.models.courses import Course
    from app.models.instruments import Instrument
    from app.services import loader

    path = Path(args.path) if args.path else get_settings().curricula_dir
    with Session(get_engine()) as session:
        if args.if_empty:
            n = session.exec(select(func.count()).select_from(Instrument)).one()
            n += session.exec(select(func.count()).select_from(Course)).one()
            if n:
                print("database already holds data; nothing loaded")
                return 0
        try:
            report = loader.load(session, path)
        except loader.LoadError as exc:
            print(f"load failed, nothing was written: {exc}", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
    for line in report.lines():
        print(line)
    return 0


def _session():
    from sqlmodel import Session

    from app.db import get_engine

    return Session(get_engine())


def _cmd_user(args: argparse.Namespace) -> int:
    from pydantic import ValidationError
    from sqlmodel import select

    from app.errors import PlannerError
    from app.models.accounts import User, UserCreate
    from app.services import accounts

    with _session() as session:
        try:
            if args.action == "create":
                password = sys.stdin.readline().rstrip("\n")
                user = accounts.create_user(
                    session,
                    UserCreate(
                        username=args.name,
                        role=args.role,
                        password=password,
                        display_name=args.display_name or "",
                    ),
                    actor="cli",
                )
                print(f"created {user.username} ({user.role})")
            elif args.action == "list":
                for u in session.exec(select(User).order_by(User.username)):
                    print(
                        f"{u.username}\t{u.role}\t{'active' if u.active else 'disabled'}\t{u.display_name}"
                    )
            else:
                accounts.set_active(
                    session,
                    accounts.get_user(session, args.name),
                    args.action == "enable",
                    actor="cli",
                )
                print(f"{args.name} {args.action}d")
        except ValidationError as exc:
            for err in exc.errors():
                print(f"{'.'.join(map(str, err['loc']))}: {err['msg']}", file=sys.stderr)
            return 2
        except PlannerError as exc:
            print(exc.detail, file=sys.stderr)
            return 1
    return 0


def _cmd_client(args: argparse.Namespace) -> int:
    from pydantic import ValidationError
    from sqlmodel import select

    from app.errors import PlannerError
    from app.models.accounts import ApiClient, ClientCreate
    from app.services import accounts

    with _session() as session:
        try:
            if args.action == "create":
                client, token = accounts.create_client(
                    session,
                    ClientCreate(
                        name=args.name, scopes=args.scope or [], expires_in_days=args.expires
                    ),
                    actor="cli",
                )
                print(
                    f"created client {client.name} with scopes {' '.join(client.scopes)}"
                    + (f", expires {client.expires_at:%Y-%m-%d}" if client.expires_at else "")
                )
                print("the token is shown once; store it now:")
                print(token)
            elif args.action == "list":
                for c in session.exec(select(ApiClient).order_by(ApiClient.name)):
                    state = "revoked" if c.revoked_at else "active"
                    print(f"{c.name}\t{state}\t{' '.join(c.scopes)}\t{c.token_prefix}...")
            else:
                accounts.revoke_client(session, args.name, actor="cli")
                print(f"{args.name} revoked")
        except ValidationError as exc:
            for err in exc.errors():
                print(f"{'.'.join(map(str, err['loc']))}: {err['msg']}", file=sys.stderr)
            return 2
        except PlannerError as exc:
            print(exc.detail, file=sys.stderr)
            return 1
    return 0


def _cmd_dump(args: argparse.Namespace) -> int:
    import json

    from sqlmodel import Session

    from app.db import get_engine, is_postgres
    from app.services import backup

    engine = get_engine()
    if is_postgres(engine):  # one consistent snapshot while others keep writing
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with Session(engine) as session:
        data = backup.dump(session)
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if args.file == "-":
        sys.stdout.write(text)
    else:
        Path(args.file).write_text(text, encoding="utf-8")
        rows = sum(len(t) for t in data["tables"].values())
        print(f"wrote {rows} rows of {len(data['tables'])} tables to {args.file}")
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    import json

    from pydantic import ValidationError
    from sqlmodel import Session

    from app.db import get_write_engine
    from app.errors import PlannerError
    from app.services import backup

    try:
        source = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")  # noqa: SIM115
        with source:
            data = json.load(source)
    except (OSError, ValueError) as exc:
        print(f"cannot read the backup: {exc}", file=sys.stderr)
        return 2
    with Session(get_write_engine()) as session:
        try:
            counts = backup.restore(session, data)
        except ValidationError as exc:
            for err in exc.errors():
                print(f"{'.'.join(map(str, err['loc']))}: {err['msg']}", file=sys.stderr)
            return 2
        except PlannerError as exc:
            print(f"restore failed, nothing was written: {exc.detail}", file=sys.stderr)
            for err in exc.errors or []:
                print(f"  {err['field']}: {err['message']}", file=sys.stderr)
            return 1
    print(f"restored {sum(counts.values())} rows of {len(counts)} tables")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import logging
    import os

    import uvicorn

    # The app (and every worker process) reads where it is served from the settings: the
    # first-run setup link must name the port actually used.
    if args.host:
        os.environ["PLANNER_HOST"] = args.host
    if args.port:
        os.environ["PLANNER_PORT"] = str(args.port)
    get_settings.cache_clear()
    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper())
    if args.with_worker:
        _start_worker_thread()
    uvicorn.run(
        "app.main:app",
        host=settings.host,
        port=settings.port,
        workers=args.workers or settings.workers,
        log_level=settings.log_level,
        proxy_headers=True,
    )
    return 0


def _start_worker_thread() -> None:
    """Deliver webhooks from inside `planner serve` (one process: the `make run` set-up)."""
    import logging
    import threading
    import time

    from sqlmodel import Session

    from app.db import get_write_engine
    from app.services import delivery

    def loop() -> None:
        while True:
            try:
                delivery.run_forever(lambda: Session(get_write_engine(), expire_on_commit=False))
            except Exception:  # keep delivering after a transient failure (e.g. a locked database)
                logging.getLogger("planner.worker").exception("webhook worker failed; restarting")
                time.sleep(5)

    threading.Thread(target=loop, name="webhook-worker", daemon=True).start()


def _cmd_notify_due(args: argparse.Namespace) -> int:
    from app.services import requirements

    with _session() as session:
        found = requirements.notify_due(session)
    print(f"{found} new training-due notice(s) queued")
    return 0


def _cmd_worker(args) -> int:  # pragma: no cover - a loop until interrupted
    import logging

    from sqlmodel import Session

    from app.db import get_write_engine
    from app.services import delivery

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        delivery.run_forever(
            lambda: Session(get_write_engine(), expire_on_commit=False), idle_seconds=args.idle
        )
    except KeyboardInterrupt:
        return 0
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="planner", description="Police curriculum planner")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="serve the web application")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int)
    p.add_argument("--with-worker", action="store_true", help="also deliver webhooks in-process")
    p.set_defaults(func=_cmd_serve)
    p = sub.add_parser("migrate", help="apply database migrations")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=_cmd_migrate)
    p = sub.add_parser("load", help="load curricula YAML (all or nothing, upsert by code)")
    p.add_argument("path", nargs="?", help="file or folder (default: the shipped curricula/)")
    p.add_argument("--if-empty", action="store_true", help="only when the database holds no data")
    p.set_defaults(func=_cmd_load)
    p = sub.add_parser("dump", help="write a JSON backup of the whole database")
    p.add_argument("file", help="backup file to write (- for standard output)")
    p.set_defaults(func=_cmd_dump)
    p = sub.add_parser("restore", help="restore a JSON backup into an empty database")
    p.add_argument("file", help="backup file to read (- for standard input)")
    p.set_defaults(func=_cmd_restore)
    p = sub.add_parser("notify-due", help="queue person.training_due for people newly due")
    p.set_defaults(func=_cmd_notify_due)
    p = sub.add_parser("worker", help="deliver webhooks from the outbox (run one or more)")
    p.add_argument("--idle", type=float, default=2.0, help="seconds to wait when nothing is due")
    p.set_defaults(func=_cmd_worker)

    from app.models.accounts import Role, Scope

    p = sub.add_parser("user", help="staff accounts")
    usub = p.add_subparsers(dest="action", required=True)
    c = usub.add_parser("create", help="create a user; the password is read from standard input")
    c.add_argument("name")
    c.add_argument("--role", required=True, choices=[r.value for r in Role])
    c.add_argument("--display-name")
    usub.add_parser("list", help="list users")
    for action in ("disable", "enable"):
        usub.add_parser(action, help=f"{action} a user").add_argument("name")
    p.set_defaults(func=_cmd_user)

    p = sub.add_parser("client", help="machine clients (scoped API tokens)")
    csub = p.add_subparsers(dest="action", required=True)
    c = csub.add_parser("create", help="create a client; prints its token alone on the last line")
    c.add_argument("name")
    c.add_argument("--scope", action="append", choices=[s.value for s in Scope], required=True)
    c.add_argument("--expires", type=int, metavar="DAYS")
    csub.add_parser("list", help="list clients")
    csub.add_parser("revoke", help="revoke a client's token").add_argument("name")
    p.set_defaults(func=_cmd_client)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
