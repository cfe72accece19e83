"""Data interchange: spreadsheet export and import, CASE import, and whole-database backup."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, File, Query, Response, UploadFile
from fastapi.responses import JSONResponse

from app.db import SessionDep
from app.models.common import InstrumentKind, Theme
from app.security import AdminOnly, CatalogRead, CatalogWrite
from app.services import backup, case_import, spreadsheets

router = APIRouter(prefix="/api/v1", tags=["interchange"])

FILES = {
    200: {
        "description": "The spreadsheet",
        "content": {media: {} for media in spreadsheets.MEDIA.values()},
    }
}
IMPORT_PROBLEMS = {
    422: {"description": "Unreadable file, or bad rows (the body's `report` lists every row)"}
}
FileFormat = Annotated[Literal["csv", "xlsx"], Query(alias="format", description="csv or xlsx")]
DryRun = Annotated[bool, Query(description="Check and report every row; write nothing")]
Upload = Annotated[UploadFile, File(description="A CSV (UTF-8) or XLSX file")]


def _download(export: spreadsheets.Export) -> Response:
    return Response(
        export.content,
        media_type=export.media_type,
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )


@router.get("/exports/courses", response_class=Response, responses=FILES)
def export_courses(principal: CatalogRead, session: SessionDep, fmt: FileFormat = "csv"):
    """One row per course; outcomes, topics, references, prerequisites and links one per line."""
    return _download(
        spreadsheets.export_courses(session, fmt=fmt, public_only=not principal.sees_all_courses)
    )


@router.get("/exports/instruments", response_class=Response, responses=FILES)
def export_instruments(principal: CatalogRead, session: SessionDep, fmt: FileFormat = "csv"):
    """One row per provision, the instrument's cells repeated on each of its rows."""
    return _download(spreadsheets.export_instruments(session, fmt=fmt))


@router.post(
    "/imports/courses", response_model=spreadsheets.ImportReport, responses=IMPORT_PROBLEMS
)
def import_courses(
    principal: CatalogWrite, session: SessionDep, file: Upload, dry_run: DryRun = False
) -> spreadsheets.ImportReport:
    """Create or update courses by code from the export's layout; every row, or none."""
    return spreadsheets.import_courses(
        session,
        file.file.read(),
        filename=file.filename or "",
        dry_run=dry_run,
        actor=principal.actor,
    )


@router.post(
    "/imports/instruments", response_model=spreadsheets.ImportReport, responses=IMPORT_PROBLEMS
)
def import_instruments(
    principal: CatalogWrite, session: SessionDep, file: Upload, dry_run: DryRun = False
) -> spreadsheets.ImportReport:
    """Create or update instruments and their provisions by code; every row, or none."""
    return spreadsheets.import_instruments(
        session,
        file.file.read(),
        filename=file.filename or "",
        dry_run=dry_run,
        actor=principal.actor,
    )


@router.post(
    "/imports/case", response_model=case_import.CaseImportReport, responses=IMPORT_PROBLEMS
)
def import_case_package(
    principal: CatalogWrite,
    session: SessionDep,
    package: Annotated[dict[str, Any], Body(description="A CASE 1.0 or 1.1 CFPackage")],
    dry_run: DryRun = False,
    kind: Annotated[
        InstrumentKind | None, Query(description="Kind of instruments that name none")
    ] = None,
    theme: Annotated[Theme | None, Query(description="Theme of instruments that name none")] = None,
) -> case_import.CaseImportReport:
    """Add or update an instrument framework: top-level CFItems are instruments, their
    descendants provisions."""
    return case_import.import_package(
        session, package, dry_run=dry_run, actor=principal.actor, kind=kind, theme=theme
    )


@router.get(
    "/admin/export",
    response_class=JSONResponse,
    responses={200: {"description": "The backup document", "model": backup.Backup}},
)
def export_database(principal: AdminOnly, session: SessionDep):
    """Everything in the database, as `planner dump` writes it."""
    data = backup.dump(session)
    stamp = data["generated_at"][:10].replace("-", "")
    return JSONResponse(
        data,
        headers={"Content-Disposition": f'attachment; filename="planner-backup-{stamp}.json"'},
    )


@router.post(
    "/admin/restore",
    response_model=backup.RestoreReport,
    responses={409: {"description": "The database is not empty, or at another revision"}},
)
def restore_database(
    principal: AdminOnly, session: SessionDep, data: backup.Backup
) -> backup.RestoreReport:
    """Restore a backup into an empty database; the backup's accounts replace any there."""
    return backup.RestoreReport(tables=backup.restore(session, data, actor=principal.actor))
