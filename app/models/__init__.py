"""Tables and API schemas, one module per domain. Importing this package registers every table."""

from app.models import (  # noqa: F401
    accounts,
    audit,
    courses,
    instruments,
    personnel,
    plans,
    training,
    webhooks,
)
