"""Administration pages: users and API clients."""

import re

from tests.factories import csrf_from


def test_admin_creates_a_user_and_sees_field_errors(browser_as):
    admin = browser_as("admin")
    page = admin.get("/admin/users")
    token = csrf_from(page.text)
    bad = admin.post(
        "/admin/users",
        data={"csrftoken": token, "username": "x", "role": "wizard", "password": "short"},
    )
    assert bad.status_code == 422
    for field in ("username", "role", "password"):
        assert f'id="e-{field}"' in bad.text
    assert 'value="x"' in bad.text  # what was typed is kept
    ok = admin.post(
        "/admin/users",
        data={
            "csrftoken": token,
            "username": "Trainer.One",
            "role": "planner",
            "password": "a good long password",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert "trainer.one" in admin.get("/admin/users").text


def test_admin_creates_a_client_whose_token_is_shown_once_and_works(browser_as, anon):
    admin = browser_as("admin")
    token = csrf_from(admin.get("/admin/clients").text)
    created = admin.post(
        "/admin/clients",
        data={
            "csrftoken": token,
            "name": "HR system",
            "scopes": ["plans:read", "catalog:read"],
            "expires_in_days": "30",
        },
    )
    assert created.status_code == 201
    secret = re.search(r'<code class="token">([^<]+)</code>', created.text).group(1)
    assert (
        anon.get("/api/v1/plans", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )
    assert secret not in admin.get("/admin/clients").text
    revoked = admin.post(
        "/admin/clients/HR system/revoke", data={"csrftoken": token}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert (
        anon.get("/api/v1/plans", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )


def test_admin_cannot_disable_self(browser_as):
    admin = browser_as("admin")
    token = csrf_from(admin.get("/admin/users").text)
    response = admin.post("/admin/users/admin/active", data={"csrftoken": token, "active": "false"})
    assert response.status_code == 409
