"""CASE 1.1 provider (documents, packages, items, associations) and CASE package import."""

import copy
import uuid

import pytest
from sqlmodel import func, select

from app.models.audit import AuditEvent
from app.services import audit
from tests.factories import create_course

BASE = "/ims/case/v1p1"
LINK_FIELDS = {"title", "identifier", "uri"}
DOC_REQUIRED = {"identifier", "uri", "creator", "title", "lastChangeDateTime"}
ITEM_REQUIRED = {"identifier", "uri", "fullStatement", "lastChangeDateTime"}
ASSOC_REQUIRED = {
    "identifier",
    "uri",
    "associationType",
    "originNodeURI",
    "destinationNodeURI",
    "lastChangeDateTime",
}


def no_nulls(value, path="$"):
    """CASE declares no nullable property: an absent value is left out, never null."""
    if isinstance(value, dict):
        for k, v in value.items():
            no_nulls(v, f"{path}.{k}")
    elif isinstance(value, list):
        for n, v in enumerate(value):
            no_nulls(v, f"{path}[{n}]")
    else:
        assert value is not None, path


def is_uuid(value: str) -> bool:
    return str(uuid.UUID(value)) == value


def documents(c):
    response = c.get(f"{BASE}/CFDocuments")
    assert response.status_code == 200, response.text
    return {d["title"]: d for d in response.json()["CFDocuments"]}


def registry(c):
    docs = documents(c)
    doc = next(d for t, d in docs.items() if "instrument" in t.lower())
    return c.get(f"{BASE}/CFPackages/{doc['identifier']}").json()


def catalogue(c):
    docs = documents(c)
    doc = next(d for t, d in docs.items() if "course" in t.lower())
    return c.get(f"{BASE}/CFPackages/{doc['identifier']}").json()


def item_by_code(package, code):
    return next(i for i in package["CFItems"] if i.get("humanCodingScheme") == code)


def test_documents_have_the_required_fields_and_stable_identifiers(client, anon):
    first, again = documents(client), documents(anon)
    assert len(first) == 2
    for title, doc in first.items():
        assert DOC_REQUIRED <= set(doc), title
        assert is_uuid(doc["identifier"]) and doc["uri"].startswith("http")
        assert set(doc["CFPackageURI"]) == LINK_FIELDS
        assert doc["CFPackageURI"]["identifier"] == doc["identifier"]
        assert doc["caseVersion"] == "1.1"
        no_nulls(doc)
        assert again[title]["identifier"] == doc["identifier"]
        single = client.get(f"{BASE}/CFDocuments/{doc['identifier']}").json()
        assert single == doc


def test_registry_package_nests_provisions_under_instruments(client):
    package = registry(client)
    no_nulls(package)
    doc = package["CFDocument"]
    assert DOC_REQUIRED <= set(doc) and "CFPackageURI" not in doc
    instruments = client.get("/api/v1/instruments", params={"limit": 500}).json()
    items = {i["identifier"]: i for i in package["CFItems"]}
    for item in items.values():
        assert ITEM_REQUIRED <= set(item) and "CFDocumentURI" not in item
    parent = {
        a["originNodeURI"]["identifier"]: a["destinationNodeURI"]["identifier"]
        for a in package["CFAssociations"]
        if a["associationType"] == "isChildOf"
    }
    for a in package["CFAssociations"]:
        assert ASSOC_REQUIRED <= set(a)
    tops = [i for i in items if parent[i] == doc["identifier"]]
    assert {items[i]["humanCodingScheme"] for i in tops} == {
        i["code"] for i in instruments["items"]
    }
    iccpr = item_by_code(package, "iccpr-1966")
    assert iccpr["fullStatement"] == "International Covenant on Civil and Political Rights"
    provisions = [i for i in items.values() if parent[i["identifier"]] == iccpr["identifier"]]
    detail = client.get("/api/v1/instruments/iccpr-1966").json()
    assert sorted(p["humanCodingScheme"] for p in provisions) == sorted(
        p["number"] for p in detail["provisions"]
    )
    assert sum(i["provision_count"] for i in instruments["items"]) == len(items) - len(tops)


def test_items_and_associations_read_alone(client):
    package = catalogue(client)
    course = item_by_code(package, "HR-101")
    item = client.get(f"{BASE}/CFItems/{course['identifier']}").json()
    assert ITEM_REQUIRED <= set(item)
    assert item["CFDocumentURI"]["identifier"] == package["CFDocument"]["identifier"]
    assert set(item["CFDocumentURI"]) == LINK_FIELDS
    outcomes = [
        a["originNodeURI"]["identifier"]
        for a in package["CFAssociations"]
        if a["associationType"] == "isChildOf"
        and a["destinationNodeURI"]["identifier"] == course["identifier"]
    ]
    detail = client.get("/api/v1/courses/HR-101").json()
    assert len(outcomes) == len(detail["outcomes"])
    texts = {client.get(f"{BASE}/CFItems/{o}").json()["fullStatement"] for o in outcomes}
    assert texts == {o["text"] for o in detail["outcomes"]}

    # The course's link to a provision, seen from the provision of the other framework.
    provision = next(
        i
        for i in registry(client)["CFItems"]
        if (i.get("extensions") or {}).get("code") == "iccpr-1966/art-2"
    )
    linked = client.get(f"{BASE}/CFItemAssociations/{provision['identifier']}").json()
    assert linked["CFItem"]["identifier"] == provision["identifier"]
    related = [
        a
        for a in linked["CFAssociations"]
        if a["associationType"] == "isRelatedTo"
        and a["originNodeURI"]["identifier"] == course["identifier"]
    ]
    assert related
    ours = next(lk for lk in detail["links"] if lk["target"] == provision["extensions"]["code"])
    assert related[0]["extensions"] == {
        "linkKind": ours["kind"],
        "depth": ours["depth"],
        "hours": ours["hours"],
    }
    alone = client.get(f"{BASE}/CFAssociations/{related[0]['identifier']}").json()
    assert ASSOC_REQUIRED <= set(alone)
    assert alone["CFDocumentURI"]["identifier"] == package["CFDocument"]["identifier"]
    no_nulls(alone)


@pytest.mark.parametrize(
    "path", ["CFDocuments", "CFPackages", "CFItems", "CFAssociations", "CFItemAssociations"]
)
def test_unknown_identifiers_answer_the_case_error(client, path):
    unknown = client.get(f"{BASE}/{path}/{uuid.uuid4()}")
    assert unknown.status_code == 404
    body = unknown.json()
    assert body["imsx_codeMajor"] == "failure" and body["imsx_severity"] == "error"
    assert body["imsx_description"]
    minor = body["imsx_codeMinor"]["imsx_codeMinorField"][0]
    assert minor["imsx_codeMinorFieldValue"] == "unknownobject"
    malformed = client.get(f"{BASE}/{path}/not-a-uuid").json()
    assert malformed["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == (
        "invalid_uuid"
    )


def test_the_public_sees_only_public_courses(client, anon):
    draft = create_course(client, status="draft")
    staff = item_by_code(catalogue(client), draft["code"])
    assert draft["code"] not in {i.get("humanCodingScheme") for i in catalogue(anon)["CFItems"]}
    assert anon.get(f"{BASE}/CFItems/{staff['identifier']}").status_code == 404
    assert client.get(f"{BASE}/CFItems/{staff['identifier']}").status_code == 200


# ---- import -------------------------------------------------------------------------------


def case_10_package():
    """A CASE 1.0 style package from another tool: no extensions, CFItemType a plain string."""
    doc = str(uuid.uuid4())
    top, child1, child2, top2 = (str(uuid.uuid4()) for _ in range(4))

    def item(identifier, statement, code=None, **extra):
        return {
            "identifier": identifier,
            "uri": f"https://case.example.org/uri/{identifier}",
            "fullStatement": statement,
            "lastChangeDateTime": "2019-05-01T10:00:00+00:00",
            **({"humanCodingScheme": code} if code else {}),
            **extra,
        }

    def child_of(origin, destination, seq):
        return {
            "identifier": str(uuid.uuid4()),
            "uri": "https://case.example.org/uri/a",
            "associationType": "isChildOf",
            "originNodeURI": {"title": "o", "identifier": origin, "uri": "https://x.example/o"},
            "destinationNodeURI": {
                "title": "d",
                "identifier": destination,
                "uri": "https://x.example/d",
            },
            "sequenceNumber": seq,
            "lastChangeDateTime": "2019-05-01T10:00:00+00:00",
        }

    return {
        "CFDocument": {
            "identifier": doc,
            "uri": f"https://case.example.org/uri/{doc}",
            "creator": "Example Standards Body",
            "publisher": "Council of Example",
            "title": "Example policing standards",
            "lastChangeDateTime": "2019-05-01T10:00:00+00:00",
            "CFPackageURI": {"title": "p", "identifier": doc, "uri": "https://x.example/p"},
        },
        "CFItems": [
            item(top, "Example Convention on Police Cooperation", "ECPC", CFItemType="Convention"),
            item(child2, "Joint teams may be set up by agreement.", "Art. 2"),
            item(
                child1,
                "The Parties shall exchange information promptly.",
                "Art. 1",
                abbreviatedStatement="Exchange of information",
            ),
            item(top2, "Example Guidelines on Body-Worn Cameras", CFItemType={"title": "x"}),
        ],
        "CFAssociations": [
            child_of(child2, top, 2),
            child_of(child1, top, 1),
            child_of(top, doc, 1),
            child_of(top2, doc, 2),
        ],
    }


def audit_count(db):
    return db.exec(select(func.count()).select_from(AuditEvent)).one()


def test_case_import_dry_run_then_apply(client, db):
    package = case_10_package()
    before = audit_count(db)
    dry = client.post(
        "/api/v1/imports/case",
        params={"dry_run": True, "theme": "police_ethics", "kind": "guidelines"},
        json=package,
    )
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["applied"] is False and report["counts"] == {"created": 4}
    by_code = {i["code"]: i for i in report["items"]}
    assert set(by_code) == {
        "ecpc",
        "ecpc/art-1",
        "ecpc/art-2",
        "example-guidelines-on-body-worn-cameras",
    }
    assert client.get("/api/v1/instruments/ecpc").status_code == 404  # a dry run writes nothing
    assert audit_count(db) == before

    applied = client.post(
        "/api/v1/imports/case",
        params={"theme": "police_ethics", "kind": "guidelines"},
        json={"CFPackage": package},  # also accepted wrapped
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["applied"] is True
    ecpc = client.get("/api/v1/instruments/ecpc").json()
    assert ecpc["kind"] == "convention" and ecpc["body"] == "Council of Example"
    assert [(p["number"], p["heading"]) for p in ecpc["provisions"]] == [
        ("Art. 1", "Exchange of information"),
        ("Art. 2", "Joint teams may be set up by agreement."),
    ]
    assert ecpc["provisions"][0]["summary"] == "The Parties shall exchange information promptly."
    cams = client.get("/api/v1/instruments/example-guidelines-on-body-worn-cameras").json()
    assert cams["kind"] == "guidelines" and cams["themes"] == ["police_ethics"]
    assert [e.action for e in audit.history(db, entity="instrument", key="ecpc")] == ["create"]
    assert audit.history(db, entity="case", key=package["CFDocument"]["identifier"])

    again = client.post("/api/v1/imports/case", params={"dry_run": True}, json=package).json()
    assert again["counts"] == {"unchanged": 4}
    package["CFItems"][1]["fullStatement"] = "Joint investigation teams may be set up."
    changed = client.post("/api/v1/imports/case", params={"dry_run": True}, json=package).json()
    outcomes = {i["code"]: i["outcome"] for i in changed["items"]}
    assert outcomes["ecpc/art-2"] == "updated" and outcomes["ecpc/art-1"] == "unchanged"


def test_a_bad_case_item_imports_nothing(client):
    package = case_10_package()  # the second top item names no kind and no theme
    response = client.post("/api/v1/imports/case", json=package)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    items = response.json()["report"]["items"]
    bad = next(i for i in items if i["code"] == "example-guidelines-on-body-worn-cameras")
    assert bad["outcome"] == "error" and {e["field"] for e in bad["errors"]} >= {"CFItemType"}
    assert client.get("/api/v1/instruments/ecpc").status_code == 404
    shape = client.post("/api/v1/imports/case", json={"CFItems": []})
    assert shape.status_code == 422 and shape.json()["errors"][0]["field"] == "CFDocument"


def test_our_own_registry_reimports_unchanged(client, anon):
    package = registry(anon)
    report = client.post("/api/v1/imports/case", params={"dry_run": True}, json=package).json()
    assert report["counts"] == {"unchanged": len(package["CFItems"])}
    edited = copy.deepcopy(package)
    udhr = item_by_code(edited, "udhr-1948")
    udhr["fullStatement"] = "Universal Declaration of Human Rights (1948)"
    report = client.post("/api/v1/imports/case", params={"dry_run": True}, json=edited).json()
    changed = [i for i in report["items"] if i["outcome"] != "unchanged"]
    assert [(i["code"], i["outcome"]) for i in changed] == [("udhr-1948", "updated")]


def test_case_import_needs_catalogue_write(anon, browser_as):
    assert anon.post("/api/v1/imports/case", json=case_10_package()).status_code == 401
    viewer = browser_as("viewer")
    assert viewer.post("/api/v1/imports/case", json=case_10_package()).status_code == 403
