"""Coverage matrix and gap report."""

from tests.factories import create_course


def test_matrix_folds_links_per_course_and_instrument(client):
    create_course(client, code="ZZ-200")
    for target, kind, depth in [
        ("cat-1984/art-15", "teaches", "introduced"),
        ("cat-1984/art-1", "assesses", "mastered"),
        ("cat-1984", "references", "introduced"),
    ]:
        r = client.post(
            "/api/v1/courses/ZZ-200/links",
            headers={"If-Match": "*"},
            json={"target": target, "kind": kind, "depth": depth, "hours": 2},
        )
        assert r.status_code == 201
    matrix = client.get("/api/v1/coverage").json()
    cell = next(c for c in matrix["cells"] if c["course"] == "ZZ-200")
    assert cell == {
        "course": "ZZ-200",
        "instrument": "cat-1984",
        "kinds": ["teaches", "assesses", "references"],
        "depth": "mastered",
        "hours": 6,
        "provisions": 2,
    }
    codes = {c["code"] for c in matrix["courses"]}
    assert "ZZ-200" in codes and len(matrix["instruments"]) >= 25


def test_matrix_filters_by_domain_and_theme(client):
    matrix = client.get(
        "/api/v1/coverage", params={"domain": "human_rights", "theme": "drugs"}
    ).json()
    assert all(c["domain"] == "human_rights" for c in matrix["courses"])
    instrument_codes = {i["code"] for i in matrix["instruments"]}
    assert "single-convention-1961" in instrument_codes and "ccleo-1979" not in instrument_codes
    assert all(cell["instrument"] in instrument_codes for cell in matrix["cells"])


def test_gaps_list_uncovered_instruments_and_unassessed_provisions(client):
    gaps = client.get("/api/v1/coverage/gaps").json()
    uncovered = {g["code"] for g in gaps["uncovered_instruments"]}
    assert "ccleo-1979" not in uncovered
    before = {p["code"] for p in gaps["unassessed_provisions"]}
    target = sorted(before)[0]
    create_course(client, code="ZZ-201")
    client.post(
        "/api/v1/courses/ZZ-201/links",
        headers={"If-Match": "*"},
        json={"target": target, "kind": "assesses"},
    )
    after = {p["code"] for p in client.get("/api/v1/coverage/gaps").json()["unassessed_provisions"]}
    assert after == before - {target}


def test_draft_courses_do_not_close_gaps(client):
    gaps = client.get("/api/v1/coverage/gaps").json()
    target = gaps["uncovered_instruments"][0]["code"]
    create_course(client, code="ZZ-202", status="draft")
    client.post(
        "/api/v1/courses/ZZ-202/links",
        headers={"If-Match": "*"},
        json={"target": target, "kind": "teaches"},
    )
    still = {g["code"] for g in client.get("/api/v1/coverage/gaps").json()["uncovered_instruments"]}
    assert target in still


def test_gaps_for_a_party_only_list_its_instruments(client):
    gaps = client.get("/api/v1/coverage/gaps", params={"party": "UZ"}).json()
    assert gaps["party"] == "UZ"
    uz = {
        i["code"]
        for i in client.get("/api/v1/instruments", params={"party": "UZ", "limit": 500}).json()[
            "items"
        ]
    }
    assert {g["code"] for g in gaps["uncovered_instruments"]} <= uz
    assert {p["instrument"] for p in gaps["unassessed_provisions"]} <= uz
