"""The audit log: every admin action (page, API or CLI) leaves who, what, when and details.

:func:`record` adds the row to the current transaction, so an action and its audit entry are
committed together or not at all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.db import db
from core.models import AuditLog


def record(actor: str, action: str, **details: Any) -> AuditLog:
    """Add an audit entry to the session (the caller commits with the change itself)."""
    entry = AuditLog(actor=actor, action=action, details=_json_safe(details))
    db.session.add(entry)
    return entry


def recent(limit: int = 200, offset: int = 0, action: str | None = None) -> list[AuditLog]:
    """The newest entries first, optionally of one action."""
    query = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if action:
        query = query.where(AuditLog.action == action)
    return list(db.session.scalars(query.limit(limit).offset(offset)))


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
