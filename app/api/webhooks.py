"""Webhook subscriptions, their delivery log and replay (webhooks:admin)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from app.api.deps import Limit, Offset
from app.db import SessionDep
from app.models.accounts import Scope
from app.models.webhooks import (
    DeliveryPage,
    DeliveryRead,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
    WebhookDelivery,
    WebhookSubscription,
)
from app.security import Principal, require
from app.services import webhooks

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

WebhooksAdmin = Annotated[Principal, Depends(require(Scope.webhooks_admin))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
NOT_FOUND = {404: {"description": "Unknown subscription or delivery"}}


def load_subscription(session: SessionDep, sub_id: Id) -> WebhookSubscription:
    return webhooks.get(session, sub_id)


def load_delivery(
    session: SessionDep, delivery_id: Annotated[str, Path(max_length=40, pattern=r"^msg_\w+$")]
) -> WebhookDelivery:
    return webhooks.get_delivery(session, delivery_id)


SubscriptionDep = Annotated[WebhookSubscription, Depends(load_subscription)]
DeliveryDep = Annotated[WebhookDelivery, Depends(load_delivery)]


@router.post(
    "",
    response_model=SubscriptionCreated,
    status_code=status.HTTP_201_CREATED,
    responses={
        400: {"description": "Malformed JSON"},
        422: {"description": "Invalid URL or event"},
    },
)
def create_subscription(
    principal: WebhooksAdmin, session: SessionDep, data: SubscriptionCreate, response: Response
) -> SubscriptionCreated:
    sub = webhooks.create(session, data, actor=principal.actor)
    response.headers["Location"] = f"/api/v1/webhooks/{sub.id}"
    return SubscriptionCreated.model_validate(sub, from_attributes=True)


@router.get("", response_model=list[SubscriptionRead])
def list_subscriptions(principal: WebhooksAdmin, session: SessionDep) -> list[SubscriptionRead]:
    return [
        SubscriptionRead.model_validate(s, from_attributes=True)
        for s in webhooks.list_subscriptions(session)
    ]


@router.delete("/{sub_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_subscription(
    principal: WebhooksAdmin, session: SessionDep, sub: SubscriptionDep
) -> Response:
    webhooks.deactivate(session, sub, actor=principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{sub_id}/deliveries", response_model=DeliveryPage, responses=NOT_FOUND)
def list_deliveries(
    principal: WebhooksAdmin,
    session: SessionDep,
    sub: SubscriptionDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DeliveryPage:
    items, total = webhooks.deliveries(session, sub, limit=limit, offset=offset)
    return DeliveryPage(
        items=[DeliveryRead.model_validate(d, from_attributes=True) for d in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/deliveries/{delivery_id}/replay",
    response_model=DeliveryRead,
    responses={**NOT_FOUND, 409: {"description": "The subscription was deleted"}},
)
def replay_delivery(
    principal: WebhooksAdmin, session: SessionDep, delivery: DeliveryDep
) -> DeliveryRead:
    webhooks.replay(session, delivery, actor=principal.actor)
    return DeliveryRead.model_validate(delivery, from_attributes=True)
