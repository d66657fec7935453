"""a person's language and a programme's language

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 15:30:00

Both are nullable: None means "no choice made", so a person's pages follow the browser and
their messages the organisation's FIKA_LANGUAGE, and a programme's shared messages use
FIKA_LANGUAGE too.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    with op.batch_alter_table("programme") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("programme") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("language")
