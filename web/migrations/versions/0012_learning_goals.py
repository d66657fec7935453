"""learning teams: goals, check-ins, digest opt-out, knowledge ambassadors

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 16:30:00

``team_progress`` holds a team's goal and the clock's claims (midway and final check-ins,
the digest); ``team_checkin`` the members' short answers. Two preferences, both off. A programme started by a person from
/me (a self-formed team) names them and says whether others may join.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("preference") as batch:
        batch.add_column(
            sa.Column("digest_opt_out", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column(
                "show_as_ambassador", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("programme") as batch:
        batch.add_column(sa.Column("started_by", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("open_to_join", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_foreign_key(
            "fk_programme_started_by_person", "person", ["started_by"], ["id"], ondelete="SET NULL"
        )
    op.create_table(
        "team_progress",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False, server_default=""),
        sa.Column("goal_updated_at", sa.DateTime(), nullable=True),
        sa.Column("midway_queued_at", sa.DateTime(), nullable=True),
        sa.Column("final_queued_at", sa.DateTime(), nullable=True),
        sa.Column("digest_queued_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["fika_group.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("group_id"),
    )
    op.create_table(
        "team_checkin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=8), nullable=False),
        sa.Column("progress", sa.Text(), nullable=False, server_default=""),
        sa.Column("goal_reached", sa.Boolean(), nullable=True),
        sa.Column("learned", sa.Text(), nullable=False, server_default=""),
        sa.Column("publish", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["fika_group.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_id", "person_id", "stage"),
    )
    op.create_index("ix_team_checkin_person_id", "team_checkin", ["person_id"])


def downgrade():
    op.drop_index("ix_team_checkin_person_id", table_name="team_checkin")
    op.drop_table("team_checkin")
    op.drop_table("team_progress")
    with op.batch_alter_table("programme") as batch:
        batch.drop_constraint("fk_programme_started_by_person", type_="foreignkey")
        batch.drop_column("open_to_join")
        batch.drop_column("started_by")
    with op.batch_alter_table("preference") as batch:
        batch.drop_column("show_as_ambassador")
        batch.drop_column("digest_opt_out")
