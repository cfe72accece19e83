"""The number of queries an endpoint sends does not grow with the rows it returns."""

import pytest


@pytest.mark.parametrize("path", ["/api/v1/courses", "/api/v1/instruments"])
def test_list_query_count_is_constant(client, count_queries, path):
    with count_queries() as small:
        assert client.get(path, params={"limit": 2}).status_code == 200
    with count_queries() as large:
        assert client.get(path, params={"limit": 500}).status_code == 200
    assert large.count == small.count


def test_course_detail_query_count_is_constant(client, count_queries):
    codes = [
        c["code"] for c in client.get("/api/v1/courses", params={"limit": 500}).json()["items"]
    ]
    counts = []
    for code in codes:
        with count_queries() as counter:
            client.get(f"/api/v1/courses/{code}")
        counts.append(counter.count)
    assert len(set(counts)) == 1


def test_instrument_detail_query_count_is_constant(client, count_queries):
    counts = {}
    for code in ("ccleo-1979", "iccpr-1966", "hague-1970"):
        with count_queries() as counter:
            client.get(f"/api/v1/instruments/{code}")
        counts[code] = counter.count
    assert len(set(counts.values())) == 1, counts


def test_coverage_query_count_is_constant(client, count_queries):
    with count_queries() as filtered:
        client.get("/api/v1/coverage", params={"domain": "tactics"})
    with count_queries() as full:
        client.get("/api/v1/coverage")
    assert full.count == filtered.count
    with count_queries() as gaps_uz:
        client.get("/api/v1/coverage/gaps", params={"party": "UZ"})
    with count_queries() as gaps:
        client.get("/api/v1/coverage/gaps")
    assert gaps.count == gaps_uz.count
