"""Why a submission's last grading attempt stored no grade (shown to the student until a grade is stored);
the sign-in attempts the rate limiter counts (shared by every site process on the database).

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("error", sa.Text, nullable=True))
    op.create_table(
        "signin_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, index=True),
        sa.Column("at", sa.DateTime, nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("signin_attempts")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("error")
