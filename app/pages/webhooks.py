"""Administration of webhooks: subscriptions and the delivery log, with replay."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.db import SessionDep
from app.models.accounts import Scope
from app.pages.render import render
from app.security import Principal, require
from app.services import webhooks

router = APIRouter(prefix="/admin/webhooks", tags=["pages"], include_in_schema=False)

WebhooksAdmin = Annotated[Principal, Depends(require(Scope.webhooks_admin))]


@router.get("", response_class=HTMLResponse)
def webhooks_page(
    principal: WebhooksAdmin,
    request: Request,
    session: SessionDep,
    subscription: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
):
    subs = webhooks.list_subscriptions(session)
    chosen = webhooks.get(session, subscription) if subscription else None
    log, total = webhooks.deliveries(session, chosen, limit=50, offset=offset)
    return render(
        request,
        "webhooks/list.html",
        {
            "subscriptions": subs,
            "chosen": chosen,
            "deliveries": log,
            "total": total,
            "offset": offset,
        },
    )


@router.post("/deliveries/{delivery_id}/replay", response_class=HTMLResponse)
def replay_delivery_page(
    principal: WebhooksAdmin, request: Request, session: SessionDep, delivery_id: str
):
    delivery = webhooks.get_delivery(session, delivery_id)
    webhooks.replay(session, delivery, actor=principal.actor)
    return RedirectResponse(request.url_for("webhooks_page"), status_code=303)
