"""programmes linked to a Slack channel; Slack events kept as jobs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 16:00:00

``programme.slack_channel_id``: the channel whose members take part.
``programme_member.slack_user_id``: the Slack user the channel brought in (so leaving it removes
exactly those rows). ``slack_event``: each Events API callback once (unique ``event_id``), acted
on after the 200.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("programme") as batch:
        batch.add_column(sa.Column("slack_channel_id", sa.String(length=32), nullable=True))
        batch.create_index("ix_programme_slack_channel_id", ["slack_channel_id"])
    with op.batch_alter_table("programme_member") as batch:
        batch.add_column(sa.Column("slack_user_id", sa.String(length=64), nullable=True))
    op.create_table(
        "slack_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_slack_event_event_id")),
    )
    op.create_index("ix_slack_event_done_at", "slack_event", ["done_at"])


def downgrade():
    op.drop_index("ix_slack_event_done_at", table_name="slack_event")
    op.drop_table("slack_event")
    with op.batch_alter_table("programme_member") as batch:
        batch.drop_column("slack_user_id")
    with op.batch_alter_table("programme") as batch:
        batch.drop_index("ix_programme_slack_channel_id")
        batch.drop_column("slack_channel_id")
