"""The home page."""


def test_home_shows_counts_gaps_and_links(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "HX-Request" in response.headers["vary"]
    html = response.text
    assert "/api/v1/courses" in html and "/docs" in html
    assert "Coverage gaps" in html
    assert client.get("/static/css/planner.css").status_code == 200
