"""Personnel and SCIM tests, and the builders they share (a provisioning client's requests)."""

from typing import Any

from fastapi.testclient import TestClient

SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ACADEMY = "urn:police-planner:params:scim:schemas:extension:academy:2.0:User"
ACADEMY_GROUP = "urn:police-planner:params:scim:schemas:extension:academy:2.0:Group"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def user_body(user_name: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": [USER], "userName": user_name, "active": True}
    body.update(extra)
    return body


def create_user(client: TestClient, user_name: str, **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/scim/v2/Users", json=user_body(user_name, **extra), headers={"Content-Type": SCIM}
    )
    assert response.status_code == 201, response.text
    return response.json()


def officer(client: TestClient, user_name: str, **fields: Any) -> dict[str, Any]:
    """A user with the enterprise and academy extensions filled from keyword arguments."""
    enterprise = {k: fields.pop(k) for k in list(fields) if k in ENTERPRISE_FIELDS}
    academy = {k: fields.pop(k) for k in list(fields) if k in ACADEMY_FIELDS}
    schemas = [USER]
    if enterprise:
        fields[ENTERPRISE] = enterprise
        schemas.append(ENTERPRISE)
    if academy:
        fields[ACADEMY] = academy
        schemas.append(ACADEMY)
    return create_user(client, user_name, schemas=schemas, **fields)


ENTERPRISE_FIELDS = {"employeeNumber", "organization", "division", "department", "manager"}
ACADEMY_FIELDS = {"rank", "position", "level", "languages"}


def create_group(
    client: TestClient,
    name: str,
    members: list[str] = (),
    kind: str = "unit",
    parent: str | None = None,
) -> dict[str, Any]:
    academy: dict[str, Any] = {"kind": kind}
    if parent:
        academy["parent"] = {"value": parent}
    response = client.post(
        "/scim/v2/Groups",
        json={
            "schemas": [GROUP, ACADEMY_GROUP],
            "displayName": name,
            "members": [{"value": m} for m in members],
            ACADEMY_GROUP: academy,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def patch(client: TestClient, path: str, *operations: dict[str, Any], **headers: str):
    return client.patch(
        path,
        json={"schemas": [PATCH_OP], "Operations": list(operations)},
        headers={"Content-Type": SCIM, **headers},
    )


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json().get("Resources", [])]
