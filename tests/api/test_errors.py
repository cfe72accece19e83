"""Every API error is RFC 9457 problem+json; no input yields a 500."""

import pytest

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert PROBLEM_KEYS <= body.keys() and body["status"] == status
    assert "Traceback" not in response.text
    return body


def test_malformed_json_is_400(client):
    response = client.post(
        "/api/v1/courses", content=b'{"code": ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400)


def test_validation_lists_every_field(client):
    body = assert_problem(client.post("/api/v1/courses", json={"code": "x"}), 422)
    fields = {e["field"] for e in body["errors"]}
    assert {"code", "title", "domain", "level"} <= fields
    assert all({"field", "loc", "message", "type"} <= e.keys() for e in body["errors"])


def test_unknown_fields_are_refused(client):
    body = assert_problem(
        client.patch("/api/v1/courses/HR-101", json={"colour": "red"}, headers={"If-Match": "*"}),
        422,
    )
    assert body["errors"][0]["field"] == "colour"


def test_unknown_route_and_method(client):
    assert_problem(client.get("/api/v1/nowhere"), 404)
    assert_problem(client.put("/api/v1/courses"), 405)


def test_bad_path_parameters_are_422_not_500(client):
    assert_problem(client.get("/api/v1/courses/" + "A" * 300), 422)
    assert_problem(
        client.delete("/api/v1/courses/HR-101/links/abc", headers={"If-Match": "*"}), 422
    )


def test_precondition_errors(client):
    assert_problem(client.patch("/api/v1/courses/HR-101", json={}), 428)
    assert_problem(
        client.patch("/api/v1/courses/HR-101", json={}, headers={"If-Match": "garbage"}), 412
    )


@pytest.mark.parametrize("payload", [[], "text", 42, None, {"code": None}, {"hours": "many"}])
def test_wrong_json_types_are_422(client, payload):
    assert_problem(client.post("/api/v1/courses", json=payload), 422)


def test_pages_show_html_errors(client):
    response = client.get("/no-such-page", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Not found" in response.text
