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
