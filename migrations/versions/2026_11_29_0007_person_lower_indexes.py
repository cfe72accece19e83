"""lower() indexes for SCIM's case-insensitive employeeNumber and familyName filters

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 07:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_person_employee_number_lower", "person", [sa.text("lower(employee_number)")]
    )
    op.create_index("ix_person_family_name_lower", "person", [sa.text("lower(family_name)")])


def downgrade() -> None:
    op.drop_index("ix_person_family_name_lower", table_name="person")
    op.drop_index("ix_person_employee_number_lower", table_name="person")
