"""Instrument pages (being built)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.pages.render import render
from app.security import CatalogRead

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/instruments", response_class=HTMLResponse)
def instrument_list(request: Request, principal: CatalogRead):
    return render(request, "error.html", {"title": "Instruments", "detail": "", "status": 200})
