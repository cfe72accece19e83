"""Instrument registry API."""


def test_list_filters_by_theme_kind_and_party(client):
    drugs = client.get("/api/v1/instruments", params={"theme": "drugs", "limit": 500}).json()
    codes = {i["code"] for i in drugs["items"]}
    assert {"single-convention-1961", "psychotropic-1971", "drug-trafficking-1988"} <= codes
    assert all("drugs" in i["themes"] for i in drugs["items"])
    protocols = client.get("/api/v1/instruments", params={"kind": "protocol", "limit": 500}).json()
    assert all(i["kind"] == "protocol" for i in protocols["items"]) and protocols["total"] >= 4
    uz = client.get("/api/v1/instruments", params={"party": "uz", "limit": 500}).json()
    assert "drug-trafficking-1988" in {i["code"] for i in uz["items"]}


def test_list_orders_by_adoption_and_counts(client):
    items = client.get("/api/v1/instruments", params={"limit": 500}).json()["items"]
    dates = [i["adopted_on"] for i in items if i["adopted_on"]]
    assert dates == sorted(dates)
    ccleo = next(i for i in items if i["code"] == "ccleo-1979")
    assert ccleo["provision_count"] == 8 and ccleo["course_count"] >= 1


def test_search_finds_aliases(client):
    # The seed paper calls the Code of Conduct a "Code of Ethics".
    found = client.get("/api/v1/instruments", params={"q": "code of ethics"}).json()
    assert "ccleo-1979" in {i["code"] for i in found["items"]}


def test_detail_has_provisions_participation_relations_and_courses(client):
    response = client.get("/api/v1/instruments/single-convention-1961")
    assert response.status_code == 200 and response.headers["etag"]
    body = response.json()
    assert body["adopted_on"] == "1961-03-30" and body["entry_into_force_on"] == "1964-12-13"
    assert "single-protocol-1972" in body["amended_by"]
    assert any(p["country"] == "UZ" for p in body["participation"])
    assert body["courses"]
    protocol = client.get("/api/v1/instruments/untoc-trafficking-2000").json()
    assert protocol["supplements"] == "untoc-2000"


def test_unknown_instrument_is_problem_404(client):
    response = client.get("/api/v1/instruments/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404
