"""Course rules and regrades: per-student extensions, regrade runs and their items.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "extensions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("assignment", sa.String(100), nullable=False),
        sa.Column("deadline", sa.DateTime, nullable=False),
        sa.Column("granted_by", sa.String(100), nullable=False),
        sa.Column("granted_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("user_id", "assignment", name="uq_extension"),
    )
    op.create_table(
        "regrade_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("assignment", sa.String(100), nullable=False, index=True),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("started_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "regrade_items",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("regrade_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("old_score", sa.Float, nullable=True),
        sa.Column("new_score", sa.Float, nullable=True),
        sa.Column("done_at", sa.DateTime, nullable=True),
    )


def downgrade() -> None:
    for table in ("regrade_items", "regrade_runs", "extensions"):
        op.drop_table(table)
