"""SCIM 2.0 at /scim/v2, driven as an HR connector would drive it."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from app.models.accounts import ClientCreate, Scope
from app.models.personnel import GroupMember, Person
from app.services import accounts, audit

from . import (
    ACADEMY,
    ACADEMY_GROUP,
    ENTERPRISE,
    ERROR,
    GROUP,
    SCIM,
    USER,
    create_group,
    create_user,
    ids,
    officer,
    patch,
)


def full_user(manager_id: str) -> dict:
    return {
        "schemas": [USER, ENTERPRISE, ACADEMY],
        "userName": "a.karimov",
        "externalId": "hr-1001",
        "name": {"givenName": "Aziz", "familyName": "Karimov"},
        "displayName": "Aziz Karimov",
        "title": "Inspector",
        "emails": [{"value": "a.karimov@police.example", "type": "work", "primary": True}],
        ENTERPRISE: {
            "employeeNumber": "E-1001",
            "organization": "MVD",
            "department": "Patrol",
            "manager": {"value": manager_id},
        },
        ACADEMY: {
            "rank": "Captain",
            "position": "Shift leader",
            "level": "in_service",
            "languages": [
                {
                    "value": "en",
                    "cefrLevel": "B2",
                    "certificateDate": "2025-03-01",
                    "certificateExpiresOn": "2027-03-01",
                }
            ],
        },
    }


def assert_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == SCIM
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert body.get("scimType") == scim_type
    assert body["detail"]
    return body


# ---- create, read, uniqueness, bad bodies ----------------------------------------------------


def test_create_and_read_a_user(client):
    boss = create_user(client, "chief", name={"givenName": "Bakhtiyor", "familyName": "Rashidov"})
    response = client.post(
        "/scim/v2/Users", json=full_user(boss["id"]), headers={"Content-Type": SCIM}
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == SCIM
    body = response.json()
    assert response.headers["location"] == body["meta"]["location"]
    assert body["meta"]["location"].endswith(f"/scim/v2/Users/{body['id']}")
    assert response.headers["etag"] == 'W/"1"' == body["meta"]["version"]
    assert body["meta"]["resourceType"] == "User"
    assert body["userName"] == "a.karimov"
    assert body["name"] == {"givenName": "Aziz", "familyName": "Karimov"}
    assert body[ENTERPRISE]["employeeNumber"] == "E-1001"
    assert body[ENTERPRISE]["manager"]["value"] == boss["id"]
    assert body[ENTERPRISE]["manager"]["displayName"] == "Bakhtiyor Rashidov"
    assert body[ACADEMY]["languages"][0]["cefrLevel"] == "B2"
    assert set(body["schemas"]) == {USER, ENTERPRISE, ACADEMY}

    got = client.get(f"/scim/v2/Users/{body['id']}")
    assert got.status_code == 200
    assert got.headers["etag"] == 'W/"1"'
    assert got.json() == body


def test_user_name_is_unique_whatever_its_case(client):
    create_user(client, "Dilnoza.Yusupova")
    body = assert_error(
        client.post("/scim/v2/Users", json={"schemas": [USER], "userName": "dilnoza.YUSUPOVA"}),
        409,
        "uniqueness",
    )
    assert "userName" in body["detail"]


def test_employee_number_is_unique(client):
    officer(client, "first", employeeNumber="E-7")
    response = client.post(
        "/scim/v2/Users",
        json={
            "schemas": [USER, ENTERPRISE],
            "userName": "second",
            ENTERPRISE: {"employeeNumber": "E-7"},
        },
    )
    assert_error(response, 409, "uniqueness")


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        ({"schemas": [USER]}, "invalidValue"),  # userName is required
        (
            {"schemas": [USER], "userName": "x", "emails": [{"value": "not-an-email"}]},
            "invalidValue",
        ),
        ({"schemas": [USER], "userName": "x", "shoeSize": 44}, "invalidSyntax"),
        (
            {"schemas": [USER, ACADEMY], "userName": "x", ACADEMY: {"level": "veteran"}},
            "invalidValue",
        ),
        (
            {
                "schemas": [USER, ACADEMY],
                "userName": "x",
                ACADEMY: {"languages": [{"value": "english"}]},
            },
            "invalidValue",
        ),
        (
            {
                "schemas": [USER, ENTERPRISE],
                "userName": "x",
                ENTERPRISE: {"manager": {"value": "nobody"}},
            },
            "invalidValue",
        ),
    ],
)
def test_invalid_bodies_are_scim_errors(client, body, scim_type):
    assert_error(client.post("/scim/v2/Users", json=body), 400, scim_type)
    assert ids(client.get("/scim/v2/Users", params={"filter": 'userName eq "x"'})) == []


def test_malformed_json_is_invalid_syntax(client):
    response = client.post(
        "/scim/v2/Users", content=b'{"userName": ', headers={"Content-Type": SCIM}
    )
    assert_error(response, 400, "invalidSyntax")


def test_unknown_user_is_404(client):
    assert_error(client.get("/scim/v2/Users/8c5e8f0e-0000-4000-8000-000000000000"), 404)


# ---- filters ----------------------------------------------------------------------------------


@pytest.fixture
def staff(client):
    """Four officers a connector has provisioned, by userName."""
    boss = officer(
        client,
        "alice",
        name={"givenName": "Alice", "familyName": "Azimova"},
        emails=[{"value": "alice@police.example", "type": "work"}],
        employeeNumber="E-100",
        department="Patrol",
        rank="Colonel",
        level="command",
        languages=[{"value": "en", "cefrLevel": "C1"}, {"value": "ru", "cefrLevel": "C2"}],
    )
    people = {"alice": boss}
    people["bobur"] = officer(
        client,
        "bobur",
        name={"givenName": "Bobur", "familyName": "Bakirov"},
        emails=[
            {"value": "bobur@police.example", "type": "work"},
            {"value": "bobur@home.example", "type": "home"},
        ],
        employeeNumber="E-200",
        department="Patrol",
        manager={"value": boss["id"]},
        rank="Lieutenant",
        level="in_service",
        languages=[{"value": "en", "cefrLevel": "B1"}],
    )
    people["carla"] = officer(
        client,
        "carla",
        name={"givenName": "Carla", "familyName": "Chen"},
        title="Analyst",
        employeeNumber="E-300",
        department="Cybercrime",
        manager={"value": boss["id"]},
        languages=[{"value": "en", "cefrLevel": "B2"}],
    )
    people["davron"] = officer(client, "davron", active=False, department="Cybercrime")
    return people


def names(response, staff) -> set[str]:
    by_id = {v["id"]: k for k, v in staff.items()}
    return {by_id[i] for i in ids(response)}


def test_filters_with_every_operator_and_combination(client, staff, db):
    boss = staff["alice"]["id"]
    old = db.exec(select(Person).where(Person.scim_id == staff["davron"]["id"])).one()
    old.created_at = datetime(2020, 1, 1, tzinfo=UTC)
    db.add(old)
    db.commit()
    unit = create_group(client, "Patrol 1", [staff["bobur"]["id"]])
    cases = {
        'userName eq "ALICE"': {"alice"},
        'userName ne "alice"': {"bobur", "carla", "davron"},
        'userName co "ar"': {"carla"},
        'userName sw "b"': {"bobur"},
        'userName ew "n"': {"davron"},
        "title pr": {"carla"},
        "not (title pr)": {"alice", "bobur", "davron"},
        'userName gt "bobur"': {"carla", "davron"},
        'userName ge "bobur"': {"bobur", "carla", "davron"},
        'userName lt "bobur"': {"alice"},
        'userName le "bobur"': {"alice", "bobur"},
        'name.familyName eq "chen"': {"carla"},
        'name.givenName sw "Bo"': {"bobur"},
        "name pr": {"alice", "bobur", "carla"},
        'emails.value ew "@home.example"': {"bobur"},
        'emails co "police.example"': {"alice", "bobur"},
        'emails[type eq "home"]': {"bobur"},
        'emails[type eq "work" and value sw "alice"]': {"alice"},
        'emails[type eq "work"].value co "bobur"': {"bobur"},
        "emails pr": {"alice", "bobur"},
        "active eq false": {"davron"},
        "active eq true and title pr": {"carla"},
        f'{ENTERPRISE}:department eq "patrol"': {"alice", "bobur"},
        f'{ENTERPRISE}:employeeNumber ge "E-200"': {"bobur", "carla"},
        f'{ENTERPRISE}:manager.value eq "{boss}"': {"bobur", "carla"},
        f"{ENTERPRISE}:manager pr": {"bobur", "carla"},
        f'{ACADEMY}:rank eq "colonel" or {ACADEMY}:rank eq "lieutenant"': {"alice", "bobur"},
        f'{ACADEMY}:languages[value eq "en" and cefrLevel ge "B2"]': {"alice", "carla"},
        f'{ACADEMY}:languages.value eq "ru"': {"alice"},
        f'{ACADEMY}:level eq "command"': {"alice"},
        'meta.created lt "2021-01-01T00:00:00Z"': {"davron"},
        'meta.created ge "2020-01-01T00:00:00+00:00"': {"alice", "bobur", "carla", "davron"},
        'meta.created gt "2020-01-01T00:00:00Z"': {"alice", "bobur", "carla"},
        'meta.lastModified gt "2000-01-01T00:00:00Z"': {"alice", "bobur", "carla", "davron"},
        f'groups.value eq "{unit["id"]}"': {"bobur"},
        'groups[display eq "Patrol 1"]': {"bobur"},
        '(userName eq "alice" or userName eq "bobur") and not (emails[type eq "home"])': {"alice"},
        'userName eq "alice" or userName eq "bobur" and title pr': {"alice"},
        "nickName pr": set(),
        'not (nickName eq "x")': {"alice", "bobur", "carla", "davron"},
        'userName eq "it\'s \\"quoted\\" 100%_"': set(),
    }
    got = {f: names(client.get("/scim/v2/Users", params={"filter": f}), staff) for f in cases}
    assert got == cases


@pytest.mark.parametrize(
    "bad",
    [
        "userName eq",
        'userName eq "x" and',
        '(userName eq "x"',
        'userName zz "x"',
        "shoeSize eq 44",
        "active gt true",
        'emails[type eq "work"',
        f'{ENTERPRISE}:nothing eq "x"',
    ],
)
def test_bad_filters_are_invalid_filter(client, bad):
    assert_error(client.get("/scim/v2/Users", params={"filter": bad}), 400, "invalidFilter")


def test_group_filters(client, staff):
    patrol = create_group(client, "Patrol Unit", [staff["alice"]["id"], staff["bobur"]["id"]])
    cohort = create_group(
        client, "Cohort 2027", [staff["carla"]["id"]], kind="cohort", parent=patrol["id"]
    )
    cases = {
        'displayName eq "patrol unit"': {patrol["id"]},
        'displayName sw "Cohort"': {cohort["id"]},
        f'members.value eq "{staff["carla"]["id"]}"': {cohort["id"]},
        f'members[value eq "{staff["bobur"]["id"]}"]': {patrol["id"]},
        f'{ACADEMY_GROUP}:kind eq "cohort"': {cohort["id"]},
        f'{ACADEMY_GROUP}:parent.value eq "{patrol["id"]}"': {cohort["id"]},
    }
    got = {f: set(ids(client.get("/scim/v2/Groups", params={"filter": f}))) for f in cases}
    assert got == cases


# ---- pages, sorting, attributes ------------------------------------------------------------------


def test_pages_cover_every_user_once(client):
    made = {create_user(client, f"page.{n:02d}")["id"] for n in range(7)}
    seen, start = [], 1
    while True:
        response = client.get(
            "/scim/v2/Users",
            params={
                "filter": 'userName sw "page."',
                "startIndex": start,
                "count": 3,
                "sortBy": "userName",
            },
        )
        body = response.json()
        assert body["totalResults"] == 7
        assert body["startIndex"] == start
        assert body["itemsPerPage"] == len(body.get("Resources", []))
        if not body.get("Resources"):
            break
        seen += [r["id"] for r in body["Resources"]]
        start += 3
    assert len(seen) == 7 and set(seen) == made
    assert start == 10  # pages of 3, 3 and 1, then an empty page

    only_total = client.get("/scim/v2/Users", params={"filter": 'userName sw "page."', "count": 0})
    assert only_total.json()["totalResults"] == 7 and not only_total.json().get("Resources")
    capped = client.get("/scim/v2/Users", params={"count": 100_000, "startIndex": -5})
    assert capped.status_code == 200 and capped.json()["startIndex"] == 1


def test_sort_by_and_sort_order(client, staff):
    def order(**params):
        response = client.get("/scim/v2/Users", params=params)
        return [staff_name(staff, i) for i in ids(response)]

    assert order(sortBy="name.familyName") == ["alice", "bobur", "carla", "davron"]
    assert order(sortBy="name.familyName", sortOrder="descending") == [
        "davron",
        "carla",
        "bobur",
        "alice",
    ]
    assert order(sortBy="userName", sortOrder="descending") == ["davron", "carla", "bobur", "alice"]
    assert_error(client.get("/scim/v2/Users", params={"sortBy": "shoeSize"}), 400, "invalidPath")


def staff_name(staff, scim_id):
    return next(k for k, v in staff.items() if v["id"] == scim_id)


def test_attributes_and_excluded_attributes(client, staff):
    alice = staff["alice"]["id"]
    only = client.get(
        f"/scim/v2/Users/{alice}", params={"attributes": f"userName,{ENTERPRISE}:employeeNumber"}
    ).json()
    assert set(only) == {"schemas", "id", "userName", ENTERPRISE}
    assert only[ENTERPRISE] == {"employeeNumber": "E-100"}

    without = client.get(
        "/scim/v2/Users",
        params={"filter": 'userName eq "alice"', "excludedAttributes": f"emails,name,{ACADEMY}"},
    ).json()["Resources"][0]
    assert "emails" not in without and "name" not in without and ACADEMY not in without
    assert without["userName"] == "alice" and without["id"] == alice

    group = create_group(client, "Big unit", [alice])
    slim = client.get(f"/scim/v2/Groups/{group['id']}", params={"excludedAttributes": "members"})
    assert "members" not in slim.json() and slim.json()["displayName"] == "Big unit"


# ---- writes: PUT, PATCH, ETag, deprovisioning ------------------------------------------------


def test_etags_and_if_match(client):
    user = create_user(client, "etag.user")
    url = f"/scim/v2/Users/{user['id']}"
    assert client.get(url, headers={"If-None-Match": 'W/"1"'}).status_code == 304

    stale = client.put(
        url, json=user_body_for(user, title="Sergeant"), headers={"If-Match": 'W/"9"'}
    )
    assert_error(stale, 412)
    fresh = client.put(
        url, json=user_body_for(user, title="Sergeant"), headers={"If-Match": 'W/"1"'}
    )
    assert fresh.status_code == 200, fresh.text
    assert fresh.headers["etag"] == 'W/"2"' == fresh.json()["meta"]["version"]
    assert fresh.json()["title"] == "Sergeant"

    same = client.put(url, json=user_body_for(user, title="Sergeant"))
    assert same.headers["etag"] == 'W/"2"'  # nothing changed, the version stays

    stale_patch = patch(
        client, url, {"op": "replace", "path": "title", "value": "x"}, **{"If-Match": 'W/"1"'}
    )
    assert_error(stale_patch, 412)
    assert_error(client.delete(url, headers={"If-Match": 'W/"1"'}), 412)
    assert client.delete(url, headers={"If-Match": 'W/"2"'}).status_code == 204


def user_body_for(user: dict, **changes) -> dict:
    body = {k: v for k, v in user.items() if k not in ("id", "meta")}
    body.update(changes)
    return body


def test_put_replaces_everything_it_does_not_name(client, staff):
    bobur = staff["bobur"]
    url = f"/scim/v2/Users/{bobur['id']}"
    body = {"schemas": [USER], "userName": "bobur", "displayName": "Bobur B.", "id": "ignored"}
    response = client.put(url, json=body)
    assert response.status_code == 200, response.text
    got = response.json()
    assert got["id"] == bobur["id"] and got["displayName"] == "Bobur B."
    assert "emails" not in got and ENTERPRISE not in got and ACADEMY not in got
    assert got["meta"]["version"] == 'W/"2"'


def test_patch_like_microsoft_entra(client, staff, db):
    carla, boss = staff["carla"], staff["alice"]
    url = f"/scim/v2/Users/{carla['id']}"
    response = patch(
        client,
        url,
        {"op": "Replace", "path": "title", "value": "Senior analyst"},
        {"op": "Add", "path": 'emails[type eq "work"].value', "value": "carla@police.example"},
        {"op": "Replace", "value": {"name.givenName": "Karla", f"{ENTERPRISE}:division": "East"}},
        {"op": "Remove", "path": f"{ENTERPRISE}:manager"},
        {"op": "Add", "path": f"{ACADEMY}:rank", "value": "Major"},
        {"op": "Replace", "path": f'{ACADEMY}:languages[value eq "en"].cefrLevel', "value": "C1"},
    )
    assert response.status_code == 200, response.text
    got = response.json()
    assert got["title"] == "Senior analyst"
    assert got["emails"] == [{"value": "carla@police.example", "type": "work"}]
    assert got["name"]["givenName"] == "Karla"
    assert got[ENTERPRISE]["division"] == "East" and "manager" not in got[ENTERPRISE]
    assert got[ACADEMY]["rank"] == "Major"
    assert got[ACADEMY]["languages"] == [{"value": "en", "cefrLevel": "C1"}]
    assert got["meta"]["version"] == 'W/"2"'

    again = patch(client, url, {"op": "add", "path": f"{ENTERPRISE}:manager", "value": boss["id"]})
    assert again.json()[ENTERPRISE]["manager"]["value"] == boss["id"]

    events = audit.history(db, entity="person", key=carla["id"])
    assert [e.action for e in events] == ["update", "update", "create"]
    assert events[1].changes["title"] == ["Analyst", "Senior analyst"]


@pytest.mark.parametrize(
    ("operation", "scim_type"),
    [
        ({"op": "remove", "path": "userName"}, "mutability"),
        ({"op": "replace", "path": "id", "value": "x"}, "mutability"),
        ({"op": "frob", "path": "title", "value": "x"}, "invalidValue"),
        ({"op": "replace", "path": "shoeSize", "value": 44}, "invalidPath"),
        ({"op": "replace", "path": 'emails[type eq "work"', "value": "x"}, "invalidPath"),
    ],
)
def test_bad_patches_change_nothing(client, operation, scim_type):
    user = create_user(client, "patch.target", title="Kept")
    url = f"/scim/v2/Users/{user['id']}"
    assert_error(patch(client, url, operation), 400, scim_type)
    after = client.get(url).json()
    assert after["title"] == "Kept" and after["meta"]["version"] == 'W/"1"'


def test_deactivation_keeps_the_user_visible(client):
    user = create_user(client, "leaver")
    url = f"/scim/v2/Users/{user['id']}"
    response = patch(client, url, {"op": "Replace", "path": "active", "value": "False"})
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert ids(client.get("/scim/v2/Users", params={"filter": "active eq false"})) == [user["id"]]
    person = client.get(f"/api/v1/people/{user['id']}").json()
    assert person["active"] is False and person["deactivated_at"] is not None


def test_delete_hides_the_user_but_keeps_the_row(client, db):
    user = officer(client, "retired", employeeNumber="E-900")
    unit = create_group(client, "Old unit", [user["id"]])
    assert client.delete(f"/scim/v2/Users/{user['id']}").status_code == 204

    assert_error(client.get(f"/scim/v2/Users/{user['id']}"), 404)
    assert_error(client.delete(f"/scim/v2/Users/{user['id']}"), 404)
    assert ids(client.get("/scim/v2/Users", params={"filter": 'userName eq "retired"'})) == []
    assert "members" not in client.get(f"/scim/v2/Groups/{unit['id']}").json()

    row = db.exec(select(Person).where(Person.scim_id == user["id"])).one()
    assert row.deleted_at is not None and row.active is False and row.employee_number == "E-900"
    assert db.exec(select(GroupMember).where(GroupMember.person_id == row.id)).all() == []
    history = client.get("/api/v1/people/E-900").json()
    assert history["deleted"] is True and history["user_name"] == "retired"

    # The userName is free again; the employee number still names the retired officer.
    assert create_user(client, "retired")["id"] != user["id"]


# ---- groups --------------------------------------------------------------------------------------


def test_group_lifecycle_and_membership(client, staff, db):
    alice, bobur, carla = (staff[n]["id"] for n in ("alice", "bobur", "carla"))
    unit = create_group(client, "Patrol 2", [alice])
    url = f"/scim/v2/Groups/{unit['id']}"
    assert unit["members"][0]["value"] == alice and unit["members"][0]["type"] == "User"
    assert unit[ACADEMY_GROUP]["kind"] == "unit"
    assert client.get(f"/scim/v2/Users/{alice}").json()["groups"][0]["value"] == unit["id"]

    added = patch(
        client, url, {"op": "add", "path": "members", "value": [{"value": bobur}, {"value": carla}]}
    )
    assert {m["value"] for m in added.json()["members"]} == {alice, bobur, carla}
    removed = patch(client, url, {"op": "remove", "path": f'members[value eq "{alice}"]'})
    assert {m["value"] for m in removed.json()["members"]} == {bobur, carla}
    entra = patch(client, url, {"op": "Remove", "path": "members", "value": [{"value": bobur}]})
    assert [m["value"] for m in entra.json()["members"]] == [carla]
    assert entra.headers["etag"] == 'W/"4"'

    people = {p.scim_id: p for p in db.exec(select(Person))}
    unit_id = people[carla].unit_id
    assert unit_id is not None and people[alice].unit_id is None

    renamed = client.put(
        url,
        json={"schemas": [GROUP], "displayName": "Patrol 2 (north)", "members": [{"value": carla}]},
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["displayName"] == "Patrol 2 (north)"
    assert renamed.json()[ACADEMY_GROUP]["kind"] == "unit"  # immutable, kept

    cohort_change = client.put(
        url,
        json={
            "schemas": [GROUP, ACADEMY_GROUP],
            "displayName": "x",
            ACADEMY_GROUP: {"kind": "cohort"},
        },
    )
    assert_error(cohort_change, 400, "mutability")

    assert client.delete(url).status_code == 204
    assert_error(client.get(url), 404)
    db.expire_all()
    assert db.get(Person, people[carla].id).unit_id is None


def test_group_with_unknown_member_is_refused(client):
    response = client.post(
        "/scim/v2/Groups",
        json={"schemas": [GROUP], "displayName": "Ghosts", "members": [{"value": "nobody"}]},
    )
    assert_error(response, 400, "invalidValue")


def test_unit_cannot_sit_inside_itself(client):
    top = create_group(client, "Top")
    low = create_group(client, "Low", parent=top["id"])
    response = patch(
        client,
        f"/scim/v2/Groups/{top['id']}",
        {"op": "replace", "path": f"{ACADEMY_GROUP}:parent", "value": {"value": low["id"]}},
    )
    assert_error(response, 400, "invalidValue")


# ---- discovery -----------------------------------------------------------------------------------


def test_discovery_endpoints(client):
    config = client.get("/scim/v2/ServiceProviderConfig").json()
    assert config["patch"]["supported"] and config["etag"]["supported"]
    assert config["filter"] == {"supported": True, "maxResults": 1000}
    assert config["bulk"]["supported"] is False
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"

    types = {t["id"]: t for t in client.get("/scim/v2/ResourceTypes").json()["Resources"]}
    assert types["User"]["endpoint"] == "/Users"
    assert {e["schema"] for e in types["User"]["schemaExtensions"]} == {ENTERPRISE, ACADEMY}
    assert client.get("/scim/v2/ResourceTypes/Group").json()["schema"] == GROUP

    schemas = {s["id"] for s in client.get("/scim/v2/Schemas").json()["Resources"]}
    assert schemas == {USER, GROUP, ENTERPRISE, ACADEMY, ACADEMY_GROUP}
    academy = client.get(f"/scim/v2/Schemas/{ACADEMY}").json()
    level = next(a for a in academy["attributes"] if a["name"] == "level")
    assert level["canonicalValues"] == ["initial", "in_service", "advanced", "command"]
    assert_error(client.get("/scim/v2/Schemas/urn:nothing"), 404)


# ---- authentication ---------------------------------------------------------------------------


def token(db, *scopes) -> dict[str, str]:
    _, secret = accounts.create_client(
        db,
        ClientCreate(
            name="hr-" + "-".join(s.replace(":", "-") for s in scopes), scopes=list(scopes)
        ),
        actor="tests",
    )
    return {"Authorization": f"Bearer {secret}"}


def test_no_token_is_a_scim_401(anon):
    response = anon.get("/scim/v2/Users")
    assert_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert_error(anon.get("/scim/v2/Users", headers={"Authorization": "Bearer nope"}), 401)


def test_scopes_decide_what_a_token_may_do(anon, db):
    catalog_only = token(db, Scope.catalog_read)
    assert_error(anon.get("/scim/v2/Users", headers=catalog_only), 403)
    assert_error(anon.get("/scim/v2/ServiceProviderConfig", headers=catalog_only), 403)

    reader = token(db, Scope.personnel_read)
    assert anon.get("/scim/v2/Users", headers=reader).status_code == 200
    denied = anon.post("/scim/v2/Users", json={"schemas": [USER], "userName": "x"}, headers=reader)
    body = assert_error(denied, 403)
    assert "personnel:write" in body["detail"]
    assert 'error="insufficient_scope"' in denied.headers["www-authenticate"]


# ---- query counts ------------------------------------------------------------------------------


def test_list_query_count_does_not_grow_with_the_page(client, staff, count_queries):
    create_group(client, "Counted", [p["id"] for p in staff.values()])
    with count_queries() as small:
        assert len(ids(client.get("/scim/v2/Users", params={"count": 1}))) == 1
    with count_queries() as large:
        assert len(ids(client.get("/scim/v2/Users", params={"count": 100}))) == 4
    assert large.count == small.count
    with count_queries() as groups:
        client.get("/scim/v2/Groups")
    with count_queries() as one_group:
        client.get("/scim/v2/Groups", params={"count": 1})
    assert groups.count == one_group.count


def test_search_with_post_and_bad_parameters(client, staff):
    response = client.post(
        "/scim/v2/Users/.search",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": f'{ENTERPRISE}:department eq "Cybercrime"',
            "sortBy": "userName",
            "sortOrder": "descending",
            "attributes": ["userName"],
            "count": 1,
        },
    )
    body = response.json()
    assert body["totalResults"] == 2 and body["itemsPerPage"] == 1
    assert body["Resources"] == [
        {"schemas": [USER], "id": staff["davron"]["id"], "userName": "davron"}
    ]
    bad = client.post("/scim/v2/Users/.search", json={"filter": "userName eq"})
    assert_error(bad, 400, "invalidFilter")
    assert_error(client.get("/scim/v2/Users", params={"startIndex": "first"}), 400, "invalidValue")


def test_entra_clears_the_manager_with_an_empty_value(client, staff):
    url = f"/scim/v2/Users/{staff['bobur']['id']}"
    response = patch(client, url, {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": ""})
    assert response.status_code == 200, response.text
    assert "manager" not in response.json()[ENTERPRISE]


def test_a_page_holds_at_most_a_thousand_users(client, db):
    db.add_all(Person(user_name=f"bulk{n:04d}", user_name_key=f"bulk{n:04d}") for n in range(1001))
    db.commit()
    body = client.get("/scim/v2/Users", params={"count": 5000, "attributes": "userName"}).json()
    assert body["totalResults"] == 1001
    assert body["itemsPerPage"] == len(body["Resources"]) == 1000
