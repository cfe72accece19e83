"""Plan pages (being built)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.pages.render import render
from app.security import PlansRead

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/plans", response_class=HTMLResponse)
def plan_list(request: Request, principal: PlansRead):
    return render(request, "error.html", {"title": "Plans", "detail": "", "status": 200})
