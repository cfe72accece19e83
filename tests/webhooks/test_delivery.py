"""Webhooks end to end: subscriptions, the outbox, a real HTTP receiver and the worker."""

import base64
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook

from app.models.common import utcnow
from app.services import delivery
from tests.factories import create_course
from tests.personnel import officer


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records what it receives and answers `statuses`."""

    def __init__(self):
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hr(client):
    officer(client, "a.ivanova", employeeNumber="E-1")
    return create_course(client)["code"]


def subscribe(client, url: str, *events: str) -> dict:
    r = client.post("/api/v1/webhooks", json={"url": url, "events": list(events)})
    assert r.status_code == 201, r.text
    return r.json()


def complete(client, course: str, day: str = "2026-03-01"):
    r = client.post(
        "/api/v1/records",
        json={"person": "E-1", "course": course, "completed_on": day, "result": "passed"},
    )
    assert r.status_code == 201, r.text


def log(client, sub: dict) -> list[dict]:
    return client.get(f"/api/v1/webhooks/{sub['id']}/deliveries").json()["items"]


def test_subscription_secret_is_shown_once_and_urls_are_checked(client):
    sub = subscribe(client, "https://hr.example/hooks", "record.completed")
    assert sub["secret"].startswith("whsec_")
    assert len(base64.b64decode(sub["secret"].removeprefix("whsec_"))) == 32
    listed = client.get("/api/v1/webhooks").json()
    assert [s["id"] for s in listed] == [sub["id"]] and "secret" not in listed[0]
    for url in ("http://hr.example/hooks", "ftp://127.0.0.1/x", "not a url"):
        r = client.post("/api/v1/webhooks", json={"url": url, "events": ["plan.approved"]})
        assert r.status_code == 422, url
        assert r.headers["content-type"] == "application/problem+json"
    bad_event = client.post(
        "/api/v1/webhooks", json={"url": "https://hr.example/x", "events": ["nope"]}
    )
    assert bad_event.status_code == 422


def test_record_completed_is_delivered_signed(client, db, hr, receiver):
    sub = subscribe(client, receiver.url, "record.completed")
    subscribe(client, receiver.url, "plan.approved")  # not interested: gets nothing
    complete(client, hr)
    assert delivery.run_once(db) == 1
    [(headers, body)] = receiver.requests
    payload = Webhook(sub["secret"]).verify(body, headers)
    assert payload["type"] == "record.completed"
    assert payload["data"]["employee_number"] == "E-1"
    assert payload["data"]["course"] == hr
    [row] = log(client, sub)
    assert headers["webhook-id"] == row["id"] and row["id"].startswith("msg_")
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("delivered", 1, 204)
    assert delivery.run_once(db) == 0  # nothing left to send


def test_a_rejected_batch_queues_nothing(client, db, hr, receiver):
    sub = subscribe(client, receiver.url, "record.completed")
    rows = [{"person": "E-1", "course": hr, "completed_on": "2026-03-01", "result": "passed"}, {}]
    r = client.post("/api/v1/records", json={"records": rows}, headers={"Idempotency-Key": "x"})
    assert r.status_code == 422
    assert log(client, sub) == []


def test_enrollment_created_is_emitted(client, db, hr, receiver):
    sub = subscribe(client, receiver.url, "enrollment.created")
    client.post("/api/v1/enrollments", json={"person": "E-1", "course": hr})
    delivery.run_once(db)
    [(headers, body)] = receiver.requests
    assert Webhook(sub["secret"]).verify(body, headers)["data"]["course"] == hr


def test_failing_endpoint_is_retried_with_back_off_then_dead(client, db, hr, receiver):
    sub = subscribe(client, receiver.url, "record.completed")
    complete(client, hr)
    receiver.statuses = [500, 503]
    now = utcnow()
    assert delivery.run_once(db, now=now) == 1
    [row] = log(client, sub)
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("failed", 1, 500)
    retry_at = datetime.fromisoformat(row["next_attempt_at"])
    assert retry_at == now + delivery.BACKOFF[0]
    assert delivery.run_once(db, now=now + timedelta(seconds=29)) == 0  # not due yet
    assert delivery.run_once(db, now=now + timedelta(seconds=31)) == 1
    assert log(client, sub)[0]["attempts"] == 2
    later = now + timedelta(seconds=31) + timedelta(minutes=2, seconds=1)
    assert delivery.run_once(db, now=later) == 1
    assert log(client, sub)[0]["status"] == "delivered"
    assert len(receiver.requests) == 3
    # The same webhook-id every time, so that the receiver can drop duplicates.
    assert len({h["webhook-id"] for h, _ in receiver.requests}) == 1


def test_gives_up_after_the_retry_window(client, db, hr, receiver):
    sub = subscribe(client, receiver.url, "record.completed")
    complete(client, hr)
    receiver.statuses = [500] * 20
    now = utcnow()
    for step in [timedelta(0), *delivery.BACKOFF]:
        now += step + timedelta(seconds=1)
        assert delivery.run_once(db, now=now) == 1
    [row] = log(client, sub)
    assert (row["status"], row["attempts"]) == ("dead", len(delivery.BACKOFF) + 1)
    assert delivery.run_once(db, now=now + timedelta(days=2)) == 0


def test_a_dead_workers_claim_lapses_and_the_row_is_sent_again(client, db, hr, receiver):
    sub = subscribe(client, receiver.url, "record.completed")
    complete(client, hr)
    now = utcnow()
    assert len(delivery.claim(db, now=now)) == 1  # a worker claims it, then dies
    assert delivery.run_once(db, now=now + timedelta(seconds=5)) == 0  # still leased
    assert delivery.run_once(db, now=now + delivery.LEASE + timedelta(seconds=1)) == 1
    [(headers, body)] = receiver.requests
    Webhook(sub["secret"]).verify(body, headers)
    assert log(client, sub)[0]["status"] == "delivered"


def test_replay_sends_the_same_message_again(client, db, hr, receiver):
    sub = subscribe(client, receiver.url, "record.completed")
    complete(client, hr)
    delivery.run_once(db)
    [row] = log(client, sub)
    r = client.post(f"/api/v1/webhooks/deliveries/{row['id']}/replay")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "pending"
    assert delivery.run_once(db) == 1
    assert [h["webhook-id"] for h, _ in receiver.requests] == [row["id"], row["id"]]
    assert client.post("/api/v1/webhooks/deliveries/msg_nope/replay").status_code == 404


def test_deleting_a_subscription_stops_its_deliveries(client, db, hr, receiver):
    sub = subscribe(client, receiver.url, "record.completed")
    complete(client, hr)
    assert client.delete(f"/api/v1/webhooks/{sub['id']}").status_code == 204
    assert delivery.run_once(db) == 0
    assert receiver.requests == []
    assert log(client, sub)[0]["status"] == "dead"
    complete(client, hr, day="2026-04-01")
    assert len(log(client, sub)) == 1  # no new rows for an inactive subscription


def test_webhooks_need_the_admin_scope(anon, browser_as):
    assert anon.get("/api/v1/webhooks").status_code == 401
    assert browser_as("planner").get("/api/v1/webhooks").status_code == 403
    assert browser_as("admin").get("/api/v1/webhooks").status_code == 200
