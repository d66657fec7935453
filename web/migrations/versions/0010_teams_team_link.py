"""a programme linked to a Microsoft Teams team

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-07 16:00:00

Nullable: most programmes are not linked to a team. The team's members are added to the
programme when the link is made from the bot's card in that team.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("programme") as batch:
        batch.add_column(sa.Column("teams_team_id", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("programme") as batch:
        batch.drop_column("teams_team_id")
