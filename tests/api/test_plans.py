"""Plans API: building a plan, validation, ETags, workflow, versions, diff and coverage."""

from tests.factories import PlanClient, create_course, plan_body


def rules(findings):
    return {f["rule"] for f in findings}


def test_shipped_plans_are_listed_with_status(client):
    body = client.get("/api/v1/plans", params={"limit": 500}).json()
    codes = {p["code"]: p for p in body["items"]}
    assert {"patrol-initial", "human-rights-in-service", "command-transnational"} <= set(codes)
    assert codes["patrol-initial"]["status"] == "approved"
    patrol = client.get(f"/api/v1/plans/{codes['patrol-initial']['id']}")
    assert patrol.headers["etag"]
    plan = patrol.json()
    assert plan["language_target"] == {"language": "en", "cefr_level": "B1"}
    assert [t["term"] for t in plan["term_plan"]] == [1, 2, 3, 4]
    assert all(t["hours"] <= t["budget"] for t in plan["term_plan"])
    validation = client.get(f"/api/v1/plans/{plan['id']}/validation").json()
    assert validation["valid"] and validation["errors"] == 0


def test_building_a_plan_updates_totals_and_findings(client):
    plan = PlanClient(client, required_instruments=["ccleo-1979"])
    assert {"term_empty", "required_not_taught", "required_not_assessed"} <= rules(plan.findings())
    create_course(
        client,
        code="ZZ-300",
        hours={"lecture": 40, "seminar": 20, "practical": 10, "self_study": 30},
    )
    added = plan.add("ZZ-300", 1)
    assert added.status_code == 201, added.text
    assert added.json()["hours"] == 70 and added.json()["self_study_hours"] == 30
    term1 = plan.read()["term_plan"][0]
    assert term1["hours"] == 70 and term1["self_study_hours"] == 30
    assert (
        plan.add("HR-102", 2).status_code == 201
    )  # HR-102 teaches and assesses the Code of Conduct
    found = rules(plan.findings())
    assert "required_not_taught" not in found and "required_not_assessed" not in found


def test_over_budget_term_and_hour_override(client):
    plan = PlanClient(client, term_hour_budget=50)
    create_course(
        client, code="ZZ-301", hours={"lecture": 40, "seminar": 20, "practical": 0, "self_study": 0}
    )
    item = plan.add("ZZ-301", 1).json()
    over = [f for f in plan.findings() if f["rule"] == "term_over_budget"]
    assert over and over[0]["term"] == 1 and over[0]["severity"] == "error"
    missing_reason = plan.patch_item(item["id"], hours_override=45)
    assert missing_reason.status_code == 422
    fixed = plan.patch_item(
        item["id"], hours_override=45, override_reason="Field exercise moved to term 2"
    )
    assert fixed.status_code == 200 and fixed.json()["hours"] == 45
    assert "term_over_budget" not in rules(plan.findings())


def test_prerequisites_must_come_earlier(client):
    plan = PlanClient(client, terms=3)
    create_course(client, code="ZZ-310")
    create_course(client, code="ZZ-311", prerequisites=["ZZ-310"])
    dependent = plan.add("ZZ-311", 1).json()
    missing = [f for f in plan.findings() if f["rule"] == "prerequisite_missing"]
    assert missing[0]["course_code"] == "ZZ-311" and missing[0]["severity"] == "warning"
    plan.add("ZZ-310", 2)
    order = [f for f in plan.findings() if f["rule"] == "prerequisite_order"]
    assert order and order[0]["course_code"] == "ZZ-311"
    assert (
        plan.patch_item(dependent["id"], term=3).status_code == 200
    )  # move it after its prerequisite
    assert "prerequisite_order" not in rules(plan.findings())


def test_item_input_errors(client):
    plan = PlanClient(client)
    assert plan.add("QQ-999", 1).status_code == 422
    assert plan.add("HR-101", 5).status_code == 422
    assert plan.add("HR-101", 1, elective_group="nope").status_code == 422
    assert plan.add("HR-101", 1, hours_override=3).status_code == 422
    assert (
        client.patch(
            f"{plan.url}/items/999999", headers={"If-Match": plan.etag}, json={"term": 1}
        ).status_code
        == 404
    )


def test_every_write_needs_if_match_and_stale_writes_are_refused(client):
    plan = PlanClient(client)
    assert (
        client.post(f"{plan.url}/items", json={"course_code": "HR-101", "term": 1}).status_code
        == 428
    )
    assert client.patch(plan.url, json={"name": "Renamed programme"}).status_code == 428
    seen_by_both = plan.etag
    # Two planners hold the same version; the first write wins, the second is told it is stale.
    first = client.post(
        f"{plan.url}/items",
        headers={"If-Match": seen_by_both},
        json={"course_code": "HR-101", "term": 1},
    )
    second = client.post(
        f"{plan.url}/items",
        headers={"If-Match": seen_by_both},
        json={"course_code": "HR-103", "term": 2},
    )
    assert first.status_code == 201 and second.status_code == 412
    assert second.headers["content-type"] == "application/problem+json"
    items = [i["course_code"] for t in plan.read()["term_plan"] for i in t["items"]]
    assert items == ["HR-101"]


def test_workflow_submit_return_approve_archive(client):
    plan = PlanClient(client, terms=1, term_hour_budget=400, total_hour_budget=None)
    plan.add("HR-101", 1)
    assert plan.act("approve").status_code == 409  # a draft must be submitted first
    assert plan.act("submit").status_code == 200
    assert plan.add("HR-102", 1).status_code == 409  # in review: frozen
    assert plan.act("return").status_code == 422  # returning needs a comment
    assert plan.act("return", "Add the Code of Conduct course").json()["status"] == "draft"
    assert plan.act("submit").status_code == 200
    approved = plan.act("approve", "Meets the standard")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    transitions = approved.json()["transitions"]
    assert [t["action"] for t in transitions] == ["submit", "return", "submit", "approve"]
    assert transitions[1]["comment"] == "Add the Code of Conduct course" and transitions[1]["actor"]
    assert plan.add("HR-103", 1).status_code == 409  # approved: frozen
    assert client.delete(plan.url, headers={"If-Match": plan.etag}).status_code == 409
    assert plan.act("archive").json()["status"] == "archived"
    assert plan.act("archive").status_code == 409


def test_plan_with_errors_cannot_be_approved(client):
    plan = PlanClient(client, term_hour_budget=10)
    plan.add("HR-101", 1)
    plan.act("submit")
    refused = plan.act("approve")
    assert refused.status_code == 409
    assert any(f["rule"] == "term_over_budget" for f in refused.json()["findings"])
    assert plan.read()["status"] == "in_review"


def test_versions_copy_forward_and_diff(client):
    plan = PlanClient(
        client,
        terms=2,
        term_hour_budget=400,
        total_hour_budget=None,
        required_instruments=["ccleo-1979"],
    )
    plan.add("HR-101", 1)
    moved = plan.add("HR-102", 1).json()
    removed = plan.add("HR-103", 2).json()
    plan.act("submit")
    assert plan.act("approve").status_code == 200
    response = client.post(f"{plan.url}/versions", json={"effective_from": "2028-09-01"})
    assert response.status_code == 201, response.text
    v2 = response.json()
    assert v2["version"] == 2 and v2["previous_version"] == plan.id and v2["status"] == "draft"
    assert v2["academic_year"] == "2028/2029" and v2["required_instruments"] == ["ccleo-1979"]
    assert client.post(f"{plan.url}/versions").status_code == 409  # v2 exists already
    assert client.get(plan.url).json()["next_versions"] == [v2["id"]]
    etag = response.headers["etag"]
    ids = {i["course_code"]: i["id"] for t in v2["term_plan"] for i in t["items"]}
    assert set(ids) == {"HR-101", "HR-102", "HR-103"}
    url = f"/api/v1/plans/{v2['id']}"
    r = client.patch(f"{url}/items/{ids['HR-102']}", headers={"If-Match": etag}, json={"term": 2})
    r = client.delete(f"{url}/items/{ids['HR-103']}", headers={"If-Match": r.headers["etag"]})
    r = client.post(
        f"{url}/items",
        headers={"If-Match": r.headers["etag"]},
        json={"course_code": "TC-101", "term": 1},
    )
    r = client.patch(
        f"{url}/items/{ids['HR-101']}",
        headers={"If-Match": r.headers["etag"]},
        json={"hours_override": 10, "override_reason": "Condensed refresher"},
    )
    assert r.status_code == 200
    diff = client.get(f"{url}/diff", params={"against": plan.id}).json()
    assert diff["added"] == ["TC-101"] and diff["removed"] == ["HR-103"]
    assert diff["moved"] == [{"course_code": "HR-102", "from_term": 1, "to_term": 2}]
    assert (
        diff["hours_changed"][0]["course_code"] == "HR-101"
        and diff["hours_changed"][0]["to_hours"] == 10
    )
    gained = {
        c["instrument_code"] for c in diff["coverage_changed"] if not c["before"] and c["after"]
    }
    tc101 = {link["instrument"] for link in client.get("/api/v1/courses/TC-101").json()["links"]}
    assert gained and gained <= tc101
    assert (
        moved["id"] != ids["HR-102"] and removed["id"] != ids["HR-103"]
    )  # the copy has its own items
    versions = client.get(f"{url}/versions").json()["items"]
    assert [v["version"] for v in versions] == [1, 2]


def test_plan_coverage_and_list_filters(client):
    plan = PlanClient(client)
    plan.add("HR-102", 1)
    matrix = client.get(f"{plan.url}/coverage").json()
    assert [c["code"] for c in matrix["courses"]] == ["HR-102"]
    assert any(cell["instrument"] == "ccleo-1979" for cell in matrix["cells"])
    drafts = client.get("/api/v1/plans", params={"status": "draft", "limit": 500}).json()["items"]
    assert plan.id in {p["id"] for p in drafts} and all(p["status"] == "draft" for p in drafts)


def test_create_plan_validation_errors(client):
    response = client.post(
        "/api/v1/plans", json=plan_body(academic_year="2027/2029", terms=0, term_budgets={"5": 10})
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"academic_year", "terms"} <= fields
    unknown = client.post("/api/v1/plans", json=plan_body(required_instruments=["nowhere"]))
    assert unknown.status_code == 422
    first = client.post("/api/v1/plans", json=plan_body(code="dup-plan"))
    assert first.status_code == 201
    assert client.post("/api/v1/plans", json=plan_body(code="dup-plan")).status_code == 409


def test_delete_draft_plan(client):
    plan = PlanClient(client)
    assert client.delete(plan.url, headers={"If-Match": '"99"'}).status_code == 412
    assert client.delete(plan.url, headers={"If-Match": plan.etag}).status_code == 204
    assert client.get(plan.url).status_code == 404


def test_validation_query_count_does_not_grow_with_items(client, count_queries):
    small = PlanClient(client, terms=6, term_hour_budget=2000)
    small.add("HR-101", 1)
    large = PlanClient(client, terms=6, term_hour_budget=2000)
    codes = [
        c["code"]
        for c in client.get("/api/v1/courses", params={"status": "approved", "limit": 500}).json()[
            "items"
        ]
    ]
    for n, code in enumerate(codes[:40]):
        assert large.add(code, n % 6 + 1).status_code == 201
    for suffix in ("validation", ""):
        with count_queries() as one:
            client.get(f"{small.url}/{suffix}".rstrip("/"))
        with count_queries() as forty:
            client.get(f"{large.url}/{suffix}".rstrip("/"))
        assert one.count == forty.count, suffix


def test_writes_to_plans_are_audited(client, db):
    from app.services import audit

    plan = PlanClient(client)
    plan.add("HR-101", 1)
    events = audit.history(db, entity="plan", key=str(plan.id))
    assert [e.action for e in events] == ["update", "create"]
    assert events[0].changes["items"] == [[], ["HR-101@1"]]
