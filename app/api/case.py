"""1EdTech CASE 1.1 provider (read-only): the registry and the course outcomes as frameworks.

The paths are fixed by the standard. Unknown or malformed identifiers answer 404 with the CASE
error body (imsx_StatusInfo) rather than problem+json, as CASE consumers expect.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from app.db import SessionDep
from app.exports import case
from app.security import CatalogRead

router = APIRouter(prefix=case.CASE_PATH, tags=["case"])

NOT_FOUND = {404: {"description": "Unknown identifier", "model": case.StatusInfo}}
SourcedId = Annotated[str, Path(max_length=64, description="A CASE identifier (UUID)")]


class CaseNotFound(Exception):
    def __init__(self, sourced_id: str, minor: str):
        self.sourced_id, self.minor = sourced_id, minor


def not_found(exc: CaseNotFound) -> JSONResponse:
    return JSONResponse(
        case.status_info(f"Unknown object {exc.sourced_id!r}.", exc.minor),
        status_code=404,
        headers={"Cache-Control": "no-store"},
    )


def published(request: Request, principal: CatalogRead, session: SessionDep) -> case.Published:
    return case.publish(
        session,
        base_url=str(request.base_url),
        public_only=not principal.sees_all_courses,
    )


PublishedDep = Annotated[case.Published, Depends(published)]


def _known(sourced_id: str, index) -> str:
    try:
        key = str(uuid.UUID(sourced_id))
    except ValueError:
        raise CaseNotFound(sourced_id, "invalid_uuid") from None
    if key not in index:
        raise CaseNotFound(sourced_id, "unknownobject")
    return key


def _answer(build):
    try:
        return build()
    except CaseNotFound as exc:
        return not_found(exc)


@router.get("/CFDocuments", response_model=case.CFDocumentSet, response_model_exclude_none=True)
def list_case_documents(pub: PublishedDep) -> case.CFDocumentSet:
    return case.CFDocumentSet(CFDocuments=[pub.document(d) for d in pub.frameworks])


@router.get(
    "/CFDocuments/{sourcedId}",
    response_model=case.CFDocument,
    response_model_exclude_none=True,
    responses=NOT_FOUND,
)
def get_case_document(pub: PublishedDep, sourcedId: SourcedId):  # noqa: N803 - CASE's name
    return _answer(lambda: pub.document(_known(sourcedId, pub.frameworks)))


@router.get(
    "/CFPackages/{sourcedId}",
    response_model=case.CFPackage,
    response_model_exclude_none=True,
    responses=NOT_FOUND,
)
def get_case_package(pub: PublishedDep, sourcedId: SourcedId):  # noqa: N803
    return _answer(lambda: pub.package(_known(sourcedId, pub.frameworks)))


@router.get(
    "/CFItems/{sourcedId}",
    response_model=case.CFItem,
    response_model_exclude_none=True,
    responses=NOT_FOUND,
)
def get_case_item(pub: PublishedDep, sourcedId: SourcedId):  # noqa: N803
    return _answer(lambda: pub.item(_known(sourcedId, pub.items)))


@router.get(
    "/CFAssociations/{sourcedId}",
    response_model=case.CFAssociation,
    response_model_exclude_none=True,
    responses=NOT_FOUND,
)
def get_case_association(pub: PublishedDep, sourcedId: SourcedId):  # noqa: N803
    return _answer(lambda: pub.association(_known(sourcedId, pub.associations)))


@router.get(
    "/CFItemAssociations/{sourcedId}",
    response_model=case.CFAssociationSet,
    response_model_exclude_none=True,
    responses=NOT_FOUND,
)
def get_case_item_associations(pub: PublishedDep, sourcedId: SourcedId):  # noqa: N803
    return _answer(lambda: pub.item_associations(_known(sourcedId, pub.items)))
