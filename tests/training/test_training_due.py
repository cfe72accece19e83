"""person.training_due: sent once per person, rule, standing and due date."""

from sqlmodel import select

from app.models.webhooks import WebhookDelivery
from app.services import requirements
from tests.personnel import officer


def test_people_newly_due_are_announced_once(client, db):
    hook = client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["person.training_due"]},
    )
    assert hook.status_code == 201, hook.text
    officer(client, "due.one", employeeNumber="E-901", position="Duty officer")
    officer(client, "elsewhere", employeeNumber="E-902", position="Clerk")
    rule = {
        "name": "40 hours a year",
        "kind": "hours_per_year",
        "hours": 40,
        "position": "Duty officer",
    }
    assert client.post("/api/v1/requirements", json=rule).status_code == 201

    assert requirements.notify_due(db) >= 1
    sent = db.exec(
        select(WebhookDelivery).where(WebhookDelivery.event_type == "person.training_due")
    ).all()
    assert [
        d.payload["data"]["employee_number"]
        for d in sent
        if d.payload["data"]["name"] == "40 hours a year"
    ] == ["E-901"]
    assert requirements.notify_due(db) == 0  # nothing new: nothing sent twice
