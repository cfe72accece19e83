"""The `planner` command: serve, migrate, load."""

import argparse
import sys
from pathlib import Path

from app.config import ROOT, get_settings


def alembic_config(database_url: str | None = None):
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", (database_url or get_settings().database_url).replace("%", "%%"))
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


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "app.main:app",
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
        log_level=settings.log_level,
        proxy_headers=True,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="planner", description="Police curriculum planner")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="serve the web application")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int)
    p.set_defaults(func=_cmd_serve)
    p = sub.add_parser("migrate", help="apply database migrations")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=_cmd_migrate)
    p = sub.add_parser("load", help="load curricula YAML (all or nothing, upsert by code)")
    p.add_argument("path", nargs="?", help="file or folder (default: the shipped curricula/)")
    p.add_argument("--if-empty", action="store_true", help="only when the database holds no data")
    p.set_defaults(func=_cmd_load)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
