"""Tables and API schemas, one module per domain. Importing this package registers every table."""

from app.models import accounts, audit, courses, instruments, plans  # noqa: F401
