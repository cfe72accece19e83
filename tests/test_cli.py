"""The `planner` command."""

import subprocess
import sys

from app.cli import main, migrate


def run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_load_reports_problems_and_exits_non_zero(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PLANNER_DATABASE_URL", url)
    bad = tmp_path / "bad.yaml"
    bad.write_text("instruments:\n  - code: Not A Code\n", encoding="utf-8")
    import os

    env = {**os.environ, "PLANNER_DATABASE_URL": url}
    assert run("migrate", env=env).returncode == 0
    result = run("load", str(bad), env=env)
    assert result.returncode == 1
    assert "bad.yaml: instruments[0] (Not A Code): code" in result.stderr


def test_load_if_empty_loads_once(tmp_path, monkeypatch, capsys):
    from app.config import get_settings
    from app.db import get_engine

    monkeypatch.setenv("PLANNER_DATABASE_URL", f"sqlite:///{tmp_path / 'once.db'}")
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        migrate()
        assert main(["load", "--if-empty"]) == 0
        assert "created" in capsys.readouterr().out
        assert main(["load", "--if-empty"]) == 0
        assert "nothing loaded" in capsys.readouterr().out
    finally:
        get_engine().dispose()
        get_settings.cache_clear()
        get_engine.cache_clear()


def test_user_and_client_commands(tmp_path):
    import os

    env = {**os.environ, "PLANNER_DATABASE_URL": f"sqlite:///{tmp_path / 'accounts.db'}"}
    assert run("migrate", env=env).returncode == 0
    created = subprocess.run(
        [sys.executable, "-m", "app.cli", "user", "create", "Officer", "--role", "reviewer"],
        input="a sufficiently long password\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    assert "officer\treviewer\tactive" in run("user", "list", env=env).stdout
    assert run("user", "disable", "officer", env=env).returncode == 0
    assert "disabled" in run("user", "list", env=env).stdout
    weak = subprocess.run(
        [sys.executable, "-m", "app.cli", "user", "create", "weak", "--role", "viewer"],
        input="short\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert weak.returncode == 2 and "password" in weak.stderr
    client = run(
        "client",
        "create",
        "lms",
        "--scope",
        "catalog:read",
        "--scope",
        "plans:read",
        "--expires",
        "30",
        env=env,
    )
    assert client.returncode == 0
    token = client.stdout.strip().splitlines()[-1]
    assert token.startswith("pcp_") and " " not in token
    assert "lms\tactive\tcatalog:read plans:read" in run("client", "list", env=env).stdout
    assert run("client", "revoke", "lms", env=env).returncode == 0
    assert "revoked" in run("client", "list", env=env).stdout
