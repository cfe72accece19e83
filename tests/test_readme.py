"""The README stays true: the two commands and every setting are documented."""

from app.config import ROOT, Settings


def test_readme_documents_commands_and_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    for name in Settings.model_fields:
        assert f"PLANNER_{name.upper()}" in readme, name
