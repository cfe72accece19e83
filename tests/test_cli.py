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
