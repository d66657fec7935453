"""clean control characters out of stored names

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 22:30:00

Before 0004 the opt-in form stored names, departments and offices with line breaks or other
control characters in them, and every invite to such a person became a dead letter (the mail
writer refuses a line break in a header). Every way in now refuses them (``core.text``); this
cleans what is already stored the same way ``core.text.clean_text`` cleans a chat profile:
each control character becomes a space, and runs of spaces collapse.
"""

import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: core.text.CONTROL_CHARACTERS as of this revision (a migration keeps its own copy).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

COLUMNS = {
    "person": ("name", "department", "home_office"),
    "programme": ("name", "topic"),
}


def _clean(value):
    return " ".join(CONTROL.sub(" ", value).split()) if isinstance(value, str) else value


def upgrade():
    connection = op.get_bind()
    for table_name, columns in COLUMNS.items():
        table = sa.table(table_name, sa.column("id"), *(sa.column(c) for c in columns))
        changes = []
        for row in connection.execute(sa.select(table)):
            values = {c: getattr(row, c) for c in columns}
            cleaned = {c: _clean(v) for c, v in values.items()}
            if cleaned != values:
                changes.append({"row_id": row.id, **cleaned})
        if changes:
            connection.execute(
                table.update()
                .where(table.c.id == sa.bindparam("row_id"))
                .values({c: sa.bindparam(c) for c in columns}),
                changes,
            )


def downgrade():
    pass  # the control characters were never wanted; there is nothing to put back
