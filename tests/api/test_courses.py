"""Course catalogue API: listing, filters, search, writes, ETags and links."""

from tests.factories import course_body, create_course


def test_list_is_paged_and_counts_all(client):
    first = client.get("/api/v1/courses", params={"limit": 5}).json()
    assert first["limit"] == 5 and first["offset"] == 0
    assert len(first["items"]) == 5
    assert first["total"] >= 30
    second = client.get("/api/v1/courses", params={"limit": 5, "offset": 5}).json()
    assert {c["code"] for c in first["items"]}.isdisjoint(c["code"] for c in second["items"])
    codes = [c["code"] for c in first["items"] + second["items"]]
    assert codes == sorted(codes)


def test_limit_above_500_is_refused(client):
    response = client.get("/api/v1/courses", params={"limit": 501})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "query.limit"


def test_filters_by_domain_level_and_status(client):
    body = client.get(
        "/api/v1/courses", params={"domain": "foreign_languages", "limit": 500}
    ).json()
    assert body["total"] >= 8
    assert all(c["domain"] == "foreign_languages" and c["cefr_level"] for c in body["items"])
    drafts = client.get("/api/v1/courses", params={"status": "draft", "limit": 500}).json()
    assert all(c["status"] == "draft" for c in drafts["items"])
    command = client.get("/api/v1/courses", params={"level": "command"}).json()
    assert all(c["level"] == "command" for c in command["items"])


def test_filter_by_instrument_returns_only_linked_courses(client):
    listed = client.get("/api/v1/courses", params={"instrument": "ccleo-1979", "limit": 500}).json()
    assert listed["total"] >= 1
    for item in listed["items"]:
        detail = client.get(f"/api/v1/courses/{item['code']}").json()
        assert any(link["instrument"] == "ccleo-1979" for link in detail["links"])


def test_full_text_search_finds_words_and_prefixes(client):
    create_course(
        client,
        code="ZZ-901",
        title="Interrogation safeguards for juveniles",
        description="Questioning of minors under the supervision of counsel.",
    )
    assert [
        c["code"] for c in client.get("/api/v1/courses", params={"q": "juveniles"}).json()["items"]
    ] == ["ZZ-901"]
    assert "ZZ-901" in [
        c["code"]
        for c in client.get("/api/v1/courses", params={"q": "interrog counsel"}).json()["items"]
    ]
    assert client.get("/api/v1/courses", params={"q": "juveniles counterfeit"}).json()["total"] == 0


def test_search_survives_query_syntax(client):
    for q in [
        '"',
        "AND OR NOT",
        "*",
        "a:b",
        "(",
        "drug* NEAR(",
        "'; DROP TABLE course;--",
        "ü ğ ж",
    ]:
        response = client.get("/api/v1/courses", params={"q": q})
        assert response.status_code == 200, (q, response.text)


def test_search_matches_cyrillic_text(client):
    create_course(
        client,
        code="ZZ-902",
        title="Юридический русский язык для полиции",
        domain="foreign_languages",
        target_language="ru",
        cefr_level="B1",
    )
    found = client.get("/api/v1/courses", params={"q": "русский"}).json()
    assert [c["code"] for c in found["items"]] == ["ZZ-902"]


def test_create_returns_course_with_etag_and_location(client):
    response = client.post("/api/v1/courses", json=course_body(code="ZZ-100", prerequisites=[]))
    assert response.status_code == 201
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == "/api/v1/courses/ZZ-100"
    body = response.json()
    assert body["hours"] == {
        "lecture": 10,
        "seminar": 6,
        "practical": 4,
        "self_study": 8,
        "contact": 20,
        "total": 28,
    }
    assert body["outcomes"][0]["bloom"] == "understand"


def test_duplicate_code_is_409(client):
    create_course(client, code="ZZ-101")
    response = client.post("/api/v1/courses", json=course_body(code="ZZ-101"))
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "code"


def test_invalid_fields_are_all_reported(client):
    body = course_body(code="bad code", domain="astrology", hours={"lecture": -1}, credits=0.3)
    response = client.post("/api/v1/courses", json=body)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"code", "domain", "hours.lecture", "credits"} <= fields


def test_language_course_needs_language_and_level(client):
    response = client.post("/api/v1/courses", json=course_body(domain="foreign_languages"))
    assert response.status_code == 422
    response = client.post(
        "/api/v1/courses", json=course_body(target_language="en", cefr_level="B1")
    )
    assert response.status_code == 422


def test_unknown_prerequisite_is_named(client):
    response = client.post("/api/v1/courses", json=course_body(prerequisites=["QQ-999"]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "prerequisites.0"


def test_patch_needs_if_match_and_rejects_stale_versions(client):
    create_course(client, code="ZZ-102")
    assert (
        client.patch("/api/v1/courses/ZZ-102", json={"title": "Renamed course"}).status_code == 428
    )
    first = client.patch(
        "/api/v1/courses/ZZ-102", json={"title": "Renamed course"}, headers={"If-Match": '"1"'}
    )
    assert first.status_code == 200 and first.headers["etag"] == '"2"'
    # A second editor who still holds version 1 is told, not silently overwritten.
    stale = client.patch(
        "/api/v1/courses/ZZ-102", json={"title": "Other title"}, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert client.get("/api/v1/courses/ZZ-102").json()["title"] == "Renamed course"


def test_patch_replaces_lists_and_keeps_other_fields(client):
    create_course(client, code="ZZ-103")
    response = client.patch(
        "/api/v1/courses/ZZ-103",
        json={
            "outcomes": [
                {"text": "Apply the necessity test to force.", "bloom": "apply"},
                {"text": "Evaluate a use-of-force report.", "bloom": "evaluate"},
            ]
        },
        headers={"If-Match": "*"},
    )
    assert response.status_code == 200
    body = response.json()
    assert [o["bloom"] for o in body["outcomes"]] == ["apply", "evaluate"]
    assert body["title"].startswith("Test course")


def test_prerequisite_cycles_are_refused(client):
    create_course(client, code="ZZ-110")
    create_course(client, code="ZZ-111", prerequisites=["ZZ-110"])
    response = client.patch(
        "/api/v1/courses/ZZ-110", json={"prerequisites": ["ZZ-111"]}, headers={"If-Match": "*"}
    )
    assert response.status_code == 422
    assert "cycle" in response.json()["detail"]


def test_delete_needs_current_version_and_refuses_required_courses(client):
    create_course(client, code="ZZ-120")
    create_course(client, code="ZZ-121", prerequisites=["ZZ-120"])
    assert client.delete("/api/v1/courses/ZZ-120", headers={"If-Match": "*"}).status_code == 409
    assert client.delete("/api/v1/courses/ZZ-121", headers={"If-Match": '"7"'}).status_code == 412
    assert client.delete("/api/v1/courses/ZZ-121", headers={"If-Match": '"1"'}).status_code == 204
    assert client.get("/api/v1/courses/ZZ-121").status_code == 404
    assert client.get("/api/v1/courses", params={"q": "ZZ-121"}).json()["total"] == 0


def test_links_to_instruments_and_provisions(client):
    create_course(client, code="ZZ-130")
    created = client.post(
        "/api/v1/courses/ZZ-130/links",
        headers={"If-Match": '"1"'},
        json={"target": "ccleo-1979/art-3", "kind": "assesses", "depth": "mastered", "hours": 4},
    )
    assert created.status_code == 201, created.text
    link = created.json()
    assert link["instrument"] == "ccleo-1979" and link["provision"] == "ccleo-1979/art-3"
    assert created.headers["etag"] == '"2"'
    again = client.post(
        "/api/v1/courses/ZZ-130/links",
        headers={"If-Match": '"2"'},
        json={"target": "ccleo-1979/art-3", "kind": "assesses"},
    )
    assert again.status_code == 409
    instrument = client.get("/api/v1/instruments/ccleo-1979").json()
    art3 = next(p for p in instrument["provisions"] if p["code"] == "ccleo-1979/art-3")
    assert {"course_code": "ZZ-130", "kind": "assesses"}.items() <= next(
        c for c in art3["covered_by"] if c["course_code"] == "ZZ-130"
    ).items()
    assert (
        client.delete(
            f"/api/v1/courses/ZZ-130/links/{link['id']}", headers={"If-Match": '"2"'}
        ).status_code
        == 204
    )
    assert client.get("/api/v1/courses/ZZ-130").json()["links"] == []


def test_link_to_unknown_target_or_too_many_hours(client):
    create_course(client, code="ZZ-131")
    unknown = client.post(
        "/api/v1/courses/ZZ-131/links",
        headers={"If-Match": "*"},
        json={"target": "ccleo-1979/art-99", "kind": "teaches"},
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "target"
    too_long = client.post(
        "/api/v1/courses/ZZ-131/links",
        headers={"If-Match": "*"},
        json={"target": "ccleo-1979", "kind": "teaches", "hours": 500},
    )
    assert too_long.status_code == 422
    assert (
        client.delete("/api/v1/courses/ZZ-131/links/999999", headers={"If-Match": "*"}).status_code
        == 404
    )


def test_writes_are_audited_with_a_diff(client, db):
    from app.services import audit

    create_course(client, code="ZZ-140")
    client.patch("/api/v1/courses/ZZ-140", json={"credits": 4}, headers={"If-Match": '"1"'})
    events = audit.history(db, entity="course", key="ZZ-140")
    assert [e.action for e in events] == ["update", "create"]
    assert events[0].changes == {"credits": [2.0, 4.0]}
