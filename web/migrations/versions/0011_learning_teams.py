"""learning-team programmes: a start date and a deadline

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 16:00:00

A programme of kind ``learning_team`` forms its teams once and keeps them from ``starts_on``
until ``ends_on``. Both are nullable: other kinds have no frame. The teams themselves are the
``fika_group`` rows of the programme's rounds (see ARCHITECTURE.md), so no table is added.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("programme") as batch:
        batch.add_column(sa.Column("starts_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("ends_on", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("programme") as batch:
        batch.drop_column("ends_on")
        batch.drop_column("starts_on")
