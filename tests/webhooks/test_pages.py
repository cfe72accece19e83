"""The admin page: subscriptions, the delivery log and its Replay button."""

from app.services import webhooks
from tests.factories import csrf_from


def _queued(client, db) -> str:
    r = client.post(
        "/api/v1/webhooks", json={"url": "https://hr.example/hooks", "events": ["plan.approved"]}
    )
    assert r.status_code == 201, r.text
    webhooks.emit(db, "plan.approved", {"plan": 1})
    db.commit()
    return client.get(f"/api/v1/webhooks/{r.json()['id']}/deliveries").json()["items"][0]["id"]


def test_admin_sees_the_log_and_replays(client, db, browser_as):
    msg = _queued(client, db)
    admin = browser_as("admin")
    page = admin.get("/admin/webhooks")
    assert page.status_code == 200
    assert "https://hr.example/hooks" in page.text and msg in page.text
    assert "Vary" in page.headers and "HX-Request" in page.headers["Vary"]
    fragment = admin.get("/admin/webhooks", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and msg in fragment.text
    url = f"/admin/webhooks/deliveries/{msg}/replay"
    no_header = {"X-CSRF-Token": ""}
    assert admin.post(url, data={}, headers=no_header).status_code == 403  # no CSRF token
    token = csrf_from(page.text)
    done = admin.post(url, data={"csrftoken": token}, headers=no_header, follow_redirects=False)
    assert done.status_code == 303
    events = admin.get("/api/v1/audit", params={"entity": "webhook_delivery"}).json()
    assert any(e["entity_key"] == msg and e["action"] == "replay" for e in events["items"])


def test_only_admins_see_webhooks(browser_as, anon):
    assert browser_as("planner").get("/admin/webhooks").status_code == 403
    r = anon.get("/admin/webhooks", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303
