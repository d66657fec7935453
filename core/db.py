"""The database: SQLAlchemy's declarative base and the Flask-SQLAlchemy handle everyone shares.

``db`` is created once here and bound to an app in ``web.create_app`` (microblog's pattern), so
the models, the use cases in ``core``, the jobs and the command line all use the same session:
inside an app context, ``db.session`` is that context's unit of work.
"""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints make Alembic migrations portable between SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with portable constraint names."""

    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
