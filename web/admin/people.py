"""People in the admin: search and filter, and the CSV upload with its dry-run preview.

The upload is checked first and nothing is written: the preview lists every bad row (line,
column, reason) and what would be created or updated. Only a clean file can then be imported,
with one click that re-checks it against the database as it is by then.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from core import audit
from core.db import db
from core.i18n import gettext as _
from core.models import Programme
from core.people_import import check_csv, template_csv
from core.people_search import STATUSES, PeopleFilter, choices, search, status_of
from web.admin import bp
from web.admin.access import actor_name
from web.admin.forms import ActionForm, ImportForm
from web.config import current_settings
from web.input_rules import id_arg, page_arg

PAGE = 50
MAX_UPLOAD = 20 * 1024 * 1024  # 20 MB: about 150,000 rows
KEEP_UPLOADS = 24 * 3600  # seconds a checked file waits for its "Import" click
TOKEN = re.compile(r"^[0-9a-f]{32}$")


@bp.get("/people")
def people():
    """The people list: free-text search, department/office/status/programme filters, pages."""
    args = request.args
    f = PeopleFilter(
        q=args.get("q", "").strip()[:200],
        department=args.get("department", "")[:200],
        office=args.get("office", "")[:200],
        status=args.get("status", "") if args.get("status") in STATUSES else "",
        programme_id=id_arg("programme"),
    )
    page = page_arg(PAGE)
    rows, total = search(f, PAGE, (page - 1) * PAGE)
    departments, offices = choices()
    programmes = db.session.scalars(select(Programme).order_by(Programme.id)).all()
    query = {k: v for k, v in args.items() if k != "page" and v}
    return render_template(
        "admin/people.html",
        people=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE)),
        f=f,
        departments=departments,
        offices=offices,
        programmes=programmes,
        statuses=STATUSES,
        status_of=status_of,
        query=query,
    )


@bp.get("/people/template.csv")
def import_template():
    """An example file with every column, to fill in."""
    return Response(
        template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=fika-people.csv"},
    )


def _uploads() -> Path:
    folder = Path(current_settings().instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in folder.glob("*.csv"):
        if now - old.stat().st_mtime > KEEP_UPLOADS:
            old.unlink(missing_ok=True)
    return folder


@bp.route("/people/import", methods=["GET", "POST"])
def import_people():
    """Upload a CSV: check it (a dry run) and show the preview; nothing is written here."""
    form = ImportForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("admin/import.html", form=form, report=None), status
    data = form.file.data.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        form.file.errors.append(_("The file is larger than 20 MB; split it and import each part."))
        return render_template("admin/import.html", form=form, report=None), 400
    report, records = check_csv(data, current_settings().timezone, dry_run=True)
    db.session.rollback()
    token = None
    if report.ok and records:
        token = secrets.token_hex(16)
        (_uploads() / f"{token}.csv").write_bytes(data)
    audit.record(
        actor_name(),
        "people.import.preview",
        filename=form.file.data.filename,
        rows=report.rows,
        errors=len(report.errors),
    )
    db.session.commit()
    return render_template(
        "admin/import.html",
        form=form,
        report=report,
        records=records[:20],
        token=token,
        confirm=ActionForm(),
    ), (200 if report.ok else 422)


@bp.post("/people/import/<token>")
def confirm_import(token: str):
    """Import the file checked a moment ago; re-checked, all or nothing."""
    if not TOKEN.match(token):
        abort(404, _("No such upload."))
    path = _uploads() / f"{token}.csv"
    if not path.exists():
        abort(404, _("This upload has expired; please upload the file again."))
    data = path.read_bytes()
    report, records = check_csv(data, current_settings().timezone, dry_run=False)
    if not report.ok:
        db.session.rollback()
        form = ImportForm()
        return render_template(
            "admin/import.html", form=form, report=report, records=records[:20], token=None
        ), 422
    report.audit(actor_name())
    db.session.commit()
    path.unlink(missing_ok=True)
    flash(_("Imported: %(summary)s.", summary=report.summary()))
    return redirect(url_for("admin.people"))
