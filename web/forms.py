"""Web forms with their validation: each bad field gets a message a person can act on."""

from __future__ import annotations

from functools import lru_cache

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, ValidationError
from wtforms.widgets import html_params

from core.i18n import gettext as _
from core.i18n import lazy_gettext
from core.text import text_problem
from core.zones import is_zone, zone_names


class PlainText:
    """A field of one line of text: no line breaks, tabs or other control characters.

    The form's side of :func:`core.text.text_problem`, the rule every way in shares.
    """

    def __init__(self, what: str):
        self.what = what  # "Your name", "The department": how the message names the field

    def __call__(self, form, field) -> None:
        """Raise the field's message when its text breaks the rule."""
        problem = text_problem(field.data or "")
        if problem is not None:
            raise ValidationError(f"{self.what} {problem}.")


class IanaZone:
    """A time-zone field: only IANA zones (:func:`core.zones.is_zone`, the check every way in
    shares), so every time Fika shows is right and nothing typed reaches the file system."""

    def __call__(self, form, field) -> None:
        """Raise the field's message when its value is not a zone."""
        value = field.data or ""
        if not is_zone(value):
            shown = repr(value) if len(value) <= 40 else repr(value[:40])[:-1] + "…'"
            raise ValidationError(f"Unknown time zone {shown}; pick one from the list.")


@lru_cache(maxsize=1)
def zone_choices() -> list[tuple[str, str]]:
    """(value, label) for every zone, built once (forms share it and never change it)."""
    return [(z, z.replace("_", " ")) for z in zone_names()]


@lru_cache(maxsize=1)
def _zone_options() -> str:
    return "".join(
        f'<option value="{escape(z)}">{escape(z.replace("_", " "))}</option>' for z in zone_names()
    )


class ZoneSelect:
    """The time-zone select with its ~600 options rendered once per process, not per request.

    Rendering them through WTForms took most of the form page's time; the list never changes.
    """

    def __call__(self, field, **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        options = _zone_options()
        if field.data:
            value = escape(field.data)
            options = options.replace(
                f'<option value="{value}">', f'<option selected value="{value}">', 1
            )
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


def work_email_field() -> EmailField:
    """The work-email field every form asks for, with the same messages everywhere."""
    return EmailField(
        "Work email",
        validators=[
            DataRequired("Please enter your work email."),
            Email("That does not look like an email address.", check_deliverability=False),
            Length(max=254),
        ],
    )


#: Topics a person may name to learn, and to share (the CSV and API allow as many).
MAX_TOPICS = 10


def topic_list(text: str | None) -> list[str]:
    """'Python, climbing ,  tea' -> ['Python', 'climbing', 'tea'] (no duplicates, no blanks)."""
    seen: dict[str, str] = {}
    for raw in (text or "").split(","):
        topic = " ".join(raw.split())
        if topic and topic.lower() not in seen:
            seen[topic.lower()] = topic
    return list(seen.values())


def check_topics(field) -> None:
    """At most ten topics, each short (the form's comma-separated list)."""
    topics = topic_list(field.data)
    if len(topics) > MAX_TOPICS:
        raise ValidationError(f"Please name at most {MAX_TOPICS} topics (you named {len(topics)}).")
    long = [t for t in topics if len(t) > 60]
    if long:
        raise ValidationError(f"Please keep each topic short: {long[0][:60]!r}… is too long.")
    if any(";" in t for t in topics):
        raise ValidationError(_("Separate topics with commas."))


class OptInForm(FlaskForm):
    """Join the coffee breaks: who you are, where you work, your time zone."""

    name = StringField(
        "Your name",
        validators=[
            DataRequired("Please tell us your name."),
            Length(max=200),
            PlainText("Your name"),
        ],
    )
    email = work_email_field()
    department = StringField(
        "Department",
        validators=[
            DataRequired("Please tell us your department."),
            Length(max=200),
            PlainText("The department"),
        ],
    )
    office = StringField("Office", validators=[Length(max=200), PlainText("The office")])
    remote = BooleanField("I work remotely")
    timezone = SelectField(
        "Time zone", validate_choice=False, validators=[IanaZone()], widget=ZoneSelect()
    )
    # What they want to learn (Preference.topics) and can share: learning teams bring the two
    # together. Optional, comma-separated.
    topics = StringField(
        lazy_gettext("Topics you want to learn (optional, comma-separated)"),
        validators=[Length(max=1000), PlainText("The topics")],
    )
    share_topics = StringField(
        lazy_gettext("Topics you can share (optional, comma-separated)"),
        validators=[Length(max=1000), PlainText("The topics")],
    )

    def validate_topics(self, field) -> None:
        """At most ten short topics."""
        check_topics(field)

    def validate_share_topics(self, field) -> None:
        """At most ten short topics."""
        check_topics(field)

    def __init__(self, *args, default_zone: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = zone_choices()
        if not self.timezone.data:
            self.timezone.data = default_zone

    def validate_office(self, field) -> None:
        """Either an office or 'remote', so rounds know who can meet in person."""
        if not self.remote.data and not (field.data or "").strip():
            raise ValidationError("Name your office, or tick 'I work remotely'.")
