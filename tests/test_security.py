"""Who may do what: every route x every role, tokens and scopes, CSRF, headers, body limits."""

from datetime import timedelta

import pytest
from fastapi.routing import APIRoute

from app.models.accounts import ApiClient, ClientCreate, Scope
from app.models.common import utcnow
from app.services import accounts

EVERYONE = {"anonymous", "viewer", "planner", "reviewer", "admin"}
STAFF = {"viewer", "planner", "reviewer", "admin"}
EDITORS = {"planner", "admin"}
ADMIN = {"admin"}
OPEN = None  # not role-gated (sign-in pages, docs, health)

# (method, route path) -> who may pass the permission check. Every route must be listed here.
EXPECTED = {
    ("GET", "/api/v1/instruments"): EVERYONE,
    ("GET", "/api/v1/instruments/{code}"): EVERYONE,
    ("GET", "/api/v1/courses"): EVERYONE,
    ("GET", "/api/v1/courses/{code}"): EVERYONE,
    ("POST", "/api/v1/courses"): EDITORS,
    ("PATCH", "/api/v1/courses/{code}"): EDITORS,
    ("DELETE", "/api/v1/courses/{code}"): EDITORS,
    ("POST", "/api/v1/courses/{code}/links"): EDITORS,
    ("DELETE", "/api/v1/courses/{code}/links/{link_id}"): EDITORS,
    ("GET", "/api/v1/coverage"): EVERYONE,
    ("GET", "/api/v1/coverage/gaps"): EVERYONE,
    ("GET", "/api/v1/plans"): STAFF,
    ("POST", "/api/v1/plans"): EDITORS,
    ("GET", "/api/v1/plans/{plan_id}"): STAFF,
    ("PATCH", "/api/v1/plans/{plan_id}"): EDITORS,
    ("DELETE", "/api/v1/plans/{plan_id}"): EDITORS,
    ("POST", "/api/v1/plans/{plan_id}/items"): EDITORS,
    ("PATCH", "/api/v1/plans/{plan_id}/items/{item_id}"): EDITORS,
    ("DELETE", "/api/v1/plans/{plan_id}/items/{item_id}"): EDITORS,
    ("GET", "/api/v1/plans/{plan_id}/validation"): STAFF,
    ("POST", "/api/v1/plans/{plan_id}/transitions"): {"planner", "reviewer", "admin"},
    ("POST", "/api/v1/plans/{plan_id}/versions"): EDITORS,
    ("GET", "/api/v1/plans/{plan_id}/versions"): STAFF,
    ("GET", "/api/v1/plans/{plan_id}/diff"): STAFF,
    ("GET", "/api/v1/plans/{plan_id}/coverage"): STAFF,
    ("GET", "/api/v1/audit"): STAFF,
    ("GET", "/api/v1/courses/{code}/syllabus"): EVERYONE,
    ("GET", "/api/v1/plans/{plan_id}/syllabus"): STAFF,
    ("GET", "/api/v1/exports/courses"): EVERYONE,
    ("GET", "/api/v1/exports/instruments"): EVERYONE,
    ("POST", "/api/v1/imports/courses"): EDITORS,
    ("POST", "/api/v1/imports/instruments"): EDITORS,
    ("POST", "/api/v1/imports/case"): EDITORS,
    ("GET", "/api/v1/admin/export"): ADMIN,
    ("POST", "/api/v1/admin/restore"): ADMIN,
    ("GET", "/scim/v2/ServiceProviderConfig"): STAFF,
    ("GET", "/scim/v2/ResourceTypes"): STAFF,
    ("GET", "/scim/v2/ResourceTypes/{name}"): STAFF,
    ("GET", "/scim/v2/Schemas"): STAFF,
    ("GET", "/scim/v2/Schemas/{schema_id}"): STAFF,
    ("GET", "/scim/v2/Users"): STAFF,
    ("GET", "/scim/v2/Users/{user_id}"): STAFF,
    ("GET", "/scim/v2/Groups"): STAFF,
    ("GET", "/scim/v2/Groups/{group_id}"): STAFF,
    ("GET", "/api/v1/people"): STAFF,
    ("GET", "/api/v1/people/{key}"): STAFF,
    ("GET", "/api/v1/units"): STAFF,
    ("GET", "/api/v1/units/{unit_id}"): STAFF,
    ("GET", "/people"): STAFF,
    ("GET", "/people/{key}"): STAFF,
    ("GET", "/units/{unit_id}"): STAFF,
    ("POST", "/scim/v2/Users/.search"): STAFF,
    ("POST", "/scim/v2/Groups/.search"): STAFF,
    ("POST", "/scim/v2/Users"): ADMIN,
    ("PUT", "/scim/v2/Users/{user_id}"): ADMIN,
    ("PATCH", "/scim/v2/Users/{user_id}"): ADMIN,
    ("DELETE", "/scim/v2/Users/{user_id}"): ADMIN,
    ("POST", "/scim/v2/Groups"): ADMIN,
    ("PUT", "/scim/v2/Groups/{group_id}"): ADMIN,
    ("PATCH", "/scim/v2/Groups/{group_id}"): ADMIN,
    ("DELETE", "/scim/v2/Groups/{group_id}"): ADMIN,
    ("POST", "/api/v1/enrollments"): ADMIN,
    ("POST", "/api/v1/records"): ADMIN,
    ("GET", "/api/v1/records"): STAFF,
    ("POST", "/api/v1/webhooks"): ADMIN,
    ("GET", "/api/v1/webhooks"): ADMIN,
    ("DELETE", "/api/v1/webhooks/{sub_id}"): ADMIN,
    ("GET", "/api/v1/webhooks/{sub_id}/deliveries"): ADMIN,
    ("POST", "/api/v1/webhooks/deliveries/{delivery_id}/replay"): ADMIN,
    ("POST", "/api/v1/requirements"): ADMIN,
    ("GET", "/api/v1/requirements"): STAFF,
    ("GET", "/api/v1/compliance"): STAFF,
    ("GET", "/api/v1/units/{unit_id}/compliance"): STAFF,
    ("GET", "/api/v1/people/{key}/transcript"): STAFF,
    ("GET", "/admin/webhooks"): ADMIN,
    ("POST", "/admin/webhooks/deliveries/{delivery_id}/replay"): ADMIN,
    ("GET", "/ims/case/v1p1/CFDocuments"): EVERYONE,
    ("GET", "/ims/case/v1p1/CFDocuments/{sourcedId}"): EVERYONE,
    ("GET", "/ims/case/v1p1/CFPackages/{sourcedId}"): EVERYONE,
    ("GET", "/ims/case/v1p1/CFItems/{sourcedId}"): EVERYONE,
    ("GET", "/ims/case/v1p1/CFAssociations/{sourcedId}"): EVERYONE,
    ("GET", "/ims/case/v1p1/CFItemAssociations/{sourcedId}"): EVERYONE,
    ("GET", "/"): EVERYONE,
    ("GET", "/courses"): EVERYONE,
    ("GET", "/courses/new"): EDITORS,
    ("POST", "/courses"): EDITORS,
    ("GET", "/courses/{code}"): EVERYONE,
    ("GET", "/courses/{code}/edit"): EDITORS,
    ("POST", "/courses/{code}/edit"): EDITORS,
    ("GET", "/instruments"): EVERYONE,
    ("GET", "/instruments/{code}"): EVERYONE,
    ("GET", "/coverage"): EVERYONE,
    ("GET", "/plans"): STAFF,
    ("POST", "/plans"): EDITORS,
    ("GET", "/plans/{plan_id}"): STAFF,
    ("GET", "/plans/{plan_id}/course-search"): STAFF,
    ("POST", "/plans/{plan_id}/items"): EDITORS,
    ("POST", "/plans/{plan_id}/items/{item_id}/move"): EDITORS,
    ("POST", "/plans/{plan_id}/items/{item_id}/delete"): EDITORS,
    ("POST", "/plans/{plan_id}/transitions"): {"planner", "reviewer", "admin"},
    ("POST", "/plans/{plan_id}/versions"): EDITORS,
    ("GET", "/plans/{plan_id}/diff"): STAFF,
    ("GET", "/account/password"): STAFF,
    ("POST", "/account/password"): STAFF,
    ("GET", "/admin/users"): ADMIN,
    ("POST", "/admin/users"): ADMIN,
    ("POST", "/admin/users/{username}/active"): ADMIN,
    ("GET", "/admin/clients"): ADMIN,
    ("POST", "/admin/clients"): ADMIN,
    ("POST", "/admin/clients/{name}/revoke"): ADMIN,
    ("GET", "/login"): OPEN,
    ("POST", "/login"): OPEN,
    ("POST", "/logout"): OPEN,
    ("GET", "/setup"): OPEN,
    ("POST", "/setup"): OPEN,
    ("GET", "/docs"): OPEN,
    ("GET", "/healthz"): OPEN,
}


def api_routes(app):
    found = set()
    for route in app.routes:
        for r in getattr(getattr(route, "original_router", None), "routes", [route]):
            if isinstance(r, APIRoute):
                found |= {(m, r.path) for m in r.methods}
    return found


def test_every_route_is_in_the_matrix(app):
    assert api_routes(app) == set(EXPECTED)


@pytest.fixture
def sample(client):
    """Real identifiers for the path parameters."""
    plans = client.get("/api/v1/plans", params={"limit": 500}).json()["items"]
    draft = next(p for p in plans if p["status"] == "draft")
    detail = client.get(f"/api/v1/plans/{draft['id']}").json()
    item = detail["term_plan"][0]["items"][0]["id"]
    link = client.get("/api/v1/courses/HR-101").json()["links"][0]["id"]
    return {
        "{code}": "HR-101",
        "{plan_id}": str(draft["id"]),
        "{item_id}": str(item),
        "{link_id}": str(link),
        "{username}": "nobody",
        "{name}": "nobody",
        "{sourcedId}": "00000000-0000-4000-8000-000000000000",
        "{user_id}": "00000000-0000-4000-8000-000000000000",
        "{group_id}": "00000000-0000-4000-8000-000000000000",
        "{key}": "nobody",
        "{unit_id}": "999999",
        "{sub_id}": "999999",
        "{delivery_id}": "msg_nothing",
        "{schema_id}": "urn:ietf:params:scim:schemas:core:2.0:User",
    }


def concrete(path: str, sample: dict[str, str]) -> str:
    for key, value in sample.items():
        path = path.replace(key, value)
    if path.startswith(("/api/v1/instruments/", "/instruments/")):
        path = path.rsplit("/", 1)[0] + "/ccleo-1979"
    if path.endswith("/diff"):
        path += "?against=" + sample["{plan_id}"]
    return path


def test_route_by_role_matrix(app, anon, browser_as, sample):
    clients = {"anonymous": anon, **{role: browser_as(role) for role in sorted(STAFF)}}
    failures = []
    for (method, path), allowed in sorted(EXPECTED.items()):
        if allowed is OPEN:
            continue
        url = concrete(path, sample)
        for role, c in clients.items():
            # Invalid bodies on purpose: an allowed caller gets past the check and stops at validation.
            kwargs = {"json": {}} if method in ("POST", "PATCH") and url.startswith("/api/") else {}
            status = c.request(method, url, **kwargs).status_code
            denied = status in (401, 403)
            if denied == (role in allowed):
                failures.append(f"{role} {method} {url}: {status}")
    assert failures == []


def test_anonymous_gets_401_with_www_authenticate(anon):
    response = anon.get("/api/v1/plans")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


def test_pages_send_anonymous_visitors_to_sign_in(anon):
    response = anon.get("/admin/users", headers={"accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fadmin%2Fusers"


def make_client(db, *scopes, **extra):
    client, token = accounts.create_client(
        db,
        ClientCreate(name=f"c-{len(scopes)}-{utcnow().timestamp()}", scopes=list(scopes), **extra),
        actor="tests",
    )
    return client, token


def test_bad_and_malformed_tokens(anon):
    bad = anon.get("/api/v1/plans", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["www-authenticate"]
    basic = anon.get("/api/v1/plans", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401


def test_scopes_limit_what_a_token_may_do(anon, db):
    _, token = make_client(db, Scope.catalog_read)
    auth = {"Authorization": f"Bearer {token}"}
    assert anon.get("/api/v1/courses", headers=auth).status_code == 200
    denied = anon.post("/api/v1/courses", headers=auth, json={})
    assert denied.status_code == 403
    assert 'error="insufficient_scope"' in denied.headers["www-authenticate"]
    assert anon.get("/api/v1/plans", headers=auth).status_code == 403


def test_expired_and_revoked_tokens_stop_working(anon, db):
    client, token = make_client(db, Scope.plans_read, expires_in_days=1)
    auth = {"Authorization": f"Bearer {token}"}
    assert anon.get("/api/v1/plans", headers=auth).status_code == 200
    assert db.get(ApiClient, client.id).last_used_at is not None
    client.expires_at = utcnow() - timedelta(seconds=1)
    db.add(client)
    db.commit()
    assert anon.get("/api/v1/plans", headers=auth).status_code == 401
    _, other = make_client(db, Scope.plans_read, Scope.catalog_read)
    revoked = accounts.revoke_client(db, db.get(ApiClient, client.id + 1).name, actor="tests")
    assert revoked.revoked_at is not None
    assert (
        anon.get("/api/v1/plans", headers={"Authorization": f"Bearer {other}"}).status_code == 401
    )


def test_tokens_are_stored_hashed(db):
    client, token = make_client(db, Scope.catalog_read)
    assert token not in (
        client.token_hash,
        client.token_prefix,
    ) and client.token_hash == accounts.digest(token)


def test_cookie_writes_need_the_csrf_token(browser_as):
    planner = browser_as("planner")
    token = planner.headers.pop("X-CSRF-Token")
    body = {"code": "ZZ-600", "title": "CSRF test course", "domain": "tactics", "level": "initial"}
    assert planner.post("/api/v1/courses", json=body).status_code == 403
    assert (
        planner.post("/api/v1/courses", json=body, headers={"X-CSRF-Token": "forged"}).status_code
        == 403
    )
    assert (
        planner.post("/api/v1/courses", json=body, headers={"X-CSRF-Token": token}).status_code
        == 201
    )


def test_sign_in_form_is_csrf_protected(anon):
    anon.get("/login")
    response = anon.post("/login", data={"username": "viewer", "password": "x"})
    assert response.status_code == 403


def test_security_headers_on_pages_and_api(anon):
    for url in ("/", "/api/v1/courses", "/login", "/docs", "/no-such-page"):
        headers = anon.get(url).headers
        csp = headers["content-security-policy"]
        assert (
            "frame-ancestors 'none'" in csp
            and "script-src 'self'" in csp
            and "unsafe-inline" not in csp
        )
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_docs_use_no_cdn_and_no_inline_script(anon):
    html = anon.get("/docs").text
    assert "cdn" not in html.lower() and "<script>" not in html
    assert anon.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_oversized_bodies_are_refused(client):
    from app.config import get_settings

    big = b"x" * (get_settings().max_body_bytes + 1)
    response = client.post(
        "/api/v1/courses", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"

    def chunks():  # no Content-Length: counted as it streams
        for _ in range(17):
            yield b"x" * (1024 * 1024)

    streamed = client.post(
        "/api/v1/courses", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


def test_public_catalogue_hides_drafts_and_restricted_courses(anon, client):
    public = {c["code"] for c in anon.get("/api/v1/courses", params={"limit": 500}).json()["items"]}
    everything = client.get("/api/v1/courses", params={"limit": 500}).json()["items"]
    hidden = {c["code"] for c in everything if c["status"] != "approved" or c["restricted"]}
    assert hidden and public.isdisjoint(hidden)
    assert public == {c["code"] for c in everything} - hidden
    restricted = next(c for c in everything if c["restricted"])["code"]
    assert anon.get(f"/api/v1/courses/{restricted}").status_code == 404
    assert client.get(f"/api/v1/courses/{restricted}").status_code == 200
    matrix = anon.get("/api/v1/coverage").json()
    assert {c["code"] for c in matrix["courses"]}.isdisjoint(hidden)


def test_private_catalogue_needs_sign_in(anon, monkeypatch):
    from app.config import get_settings

    monkeypatch.setenv("PLANNER_PUBLIC_CATALOGUE", "false")
    get_settings.cache_clear()
    try:
        assert anon.get("/api/v1/instruments").status_code == 401
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert anon.get("/api/v1/instruments").status_code == 200
