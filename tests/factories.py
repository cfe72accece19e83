"""Small builders of valid request bodies and rows for tests."""

import itertools
from typing import Any

from fastapi.testclient import TestClient

_seq = itertools.count(1)


def course_body(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    body: dict[str, Any] = {
        "code": f"ZZ-{n % 1000:03d}",
        "title": f"Test course {n}",
        "domain": "human_rights",
        "level": "initial",
        "status": "approved",
        "description": "A course created by a test.",
        "hours": {"lecture": 10, "seminar": 6, "practical": 4, "self_study": 8},
        "credits": 2,
        "language_of_instruction": "uz",
        "outcomes": [{"text": "Explain the duty to respect human dignity.", "bloom": "understand"}],
        "topics": ["Human dignity in policing"],
        "assessment": "Written test.",
    }
    body.update(overrides)
    return body


def create_course(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/courses", json=course_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def plan_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Test programme for patrol officers",
        "audience": "in_service",
        "academic_year": "2027/2028",
        "terms": 2,
        "term_hour_budget": 200,
        "total_hour_budget": 300,
    }
    body.update(overrides)
    return body


class PlanClient:
    """Drives one plan through the API, carrying its ETag from answer to answer."""

    def __init__(self, client: TestClient, **overrides: Any):
        self.client = client
        response = client.post("/api/v1/plans", json=plan_body(**overrides))
        assert response.status_code == 201, response.text
        self.id = response.json()["id"]
        self.etag = response.headers["etag"]

    @property
    def url(self) -> str:
        return f"/api/v1/plans/{self.id}"

    def _keep(self, response):
        if "etag" in response.headers:
            self.etag = response.headers["etag"]
        return response

    def add(self, course_code: str, term: int, **extra: Any):
        return self._keep(
            self.client.post(
                f"{self.url}/items",
                headers={"If-Match": self.etag},
                json={"course_code": course_code, "term": term, **extra},
            )
        )

    def patch_item(self, item_id: int, **changes: Any):
        return self._keep(
            self.client.patch(
                f"{self.url}/items/{item_id}", headers={"If-Match": self.etag}, json=changes
            )
        )

    def remove(self, item_id: int):
        return self._keep(
            self.client.delete(f"{self.url}/items/{item_id}", headers={"If-Match": self.etag})
        )

    def act(self, action: str, comment: str = ""):
        return self._keep(
            self.client.post(
                f"{self.url}/transitions",
                headers={"If-Match": self.etag},
                json={"action": action, "comment": comment},
            )
        )

    def read(self) -> dict[str, Any]:
        response = self._keep(self.client.get(self.url))
        return response.json()

    def findings(self) -> list[dict[str, Any]]:
        return self.client.get(f"{self.url}/validation").json()["findings"]


def csrf_from(html: str) -> str:
    import re

    match = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrftoken": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    # Signing in starts a new session with a new CSRF token: read it from a page, as htmx would.
    client.headers["X-CSRF-Token"] = csrf_from(client.get("/account/password").text)
