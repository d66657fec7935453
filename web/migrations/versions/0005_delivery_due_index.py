"""index the deliveries still to go out, in the order workers claim them

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 13:20:00

Workers claim the oldest due rows that are pending or retrying. Without this partial index a
claim walked past every sent row the table keeps (about 28 ms per claim with 25,000 sent
rows, growing with each round); with it a claim reads only the rows still to go out.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UNSENT_SQL = "status IN ('pending', 'retrying')"  # core.models.UNSENT_SQL as of this revision


def upgrade():
    op.create_index(
        "ix_delivery_due",
        "delivery",
        ["next_attempt_at", "id"],
        postgresql_where=sa.text(UNSENT_SQL),
        sqlite_where=sa.text(UNSENT_SQL),
    )


def downgrade():
    op.drop_index("ix_delivery_due", table_name="delivery")
