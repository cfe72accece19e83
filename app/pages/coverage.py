"""Coverage page (being built)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.pages.render import render
from app.security import CatalogRead

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/coverage", response_class=HTMLResponse)
def coverage_page(request: Request, principal: CatalogRead):
    return render(request, "error.html", {"title": "Coverage", "detail": "", "status": 200})
