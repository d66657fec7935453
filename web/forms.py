"""Web forms with their validation: each bad field gets a message a person can act on."""

from __future__ import annotations

from functools import lru_cache

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, Email, Length, Optional, ValidationError
from wtforms.widgets import html_params

from core.i18n import LANGUAGE_NAMES, LANGUAGES, current_language, lazy_gettext, using
from core.i18n import gettext as _
from core.text import CONTROL_MESSAGE, text_problem
from core.zones import is_zone, zone_names


class PlainText:
    """A field of one line of text: no line breaks, tabs or other control characters.

    The form's side of :func:`core.text.text_problem`, the rule every way in shares.
    ``control`` and ``invalid`` are the field's whole (translated) sentences for the two ways
    text breaks it (the pairs below), so a translation never glues fragments together.
    """

    def __init__(self, control, invalid):
        self.control, self.invalid = control, invalid

    def __call__(self, form, field) -> None:
        """Raise the field's message when its text breaks the rule."""
        problem = text_problem(field.data or "")
        if problem is None:
            return
        raise ValidationError(str(self.control if problem == CONTROL_MESSAGE else self.invalid))


#: The people's free-text fields, each with its whole sentences.
NAME_TEXT = (
    lazy_gettext("Your name must not contain line breaks, tabs or other control characters."),
    lazy_gettext("Your name contains characters that are not valid text."),
)
DEPARTMENT_TEXT = (
    lazy_gettext("The department must not contain line breaks, tabs or other control characters."),
    lazy_gettext("The department contains characters that are not valid text."),
)
OFFICE_TEXT = (
    lazy_gettext("The office must not contain line breaks, tabs or other control characters."),
    lazy_gettext("The office contains characters that are not valid text."),
)
TOPICS_TEXT = (
    lazy_gettext("The topics must not contain line breaks, tabs or other control characters."),
    lazy_gettext("The topics contain characters that are not valid text."),
)
#: The admin's free-text fields.
THE_NAME_TEXT = (
    lazy_gettext("The name must not contain line breaks, tabs or other control characters."),
    lazy_gettext("The name contains characters that are not valid text."),
)
TOPIC_TEXT = (
    lazy_gettext("The topic must not contain line breaks, tabs or other control characters."),
    lazy_gettext("The topic contains characters that are not valid text."),
)
DEPARTMENTS_TEXT = (
    lazy_gettext(
        "The list of departments must not contain line breaks, tabs or other control characters."
    ),
    lazy_gettext("The list of departments contains characters that are not valid text."),
)
OFFICES_TEXT = (
    lazy_gettext(
        "The list of offices must not contain line breaks, tabs or other control characters."
    ),
    lazy_gettext("The list of offices contains characters that are not valid text."),
)


class IanaZone:
    """A time-zone field: only IANA zones (:func:`core.zones.is_zone`, the check every way in
    shares), so every time Fika shows is right and nothing typed reaches the file system."""

    def __call__(self, form, field) -> None:
        """Raise the field's message when its value is not a zone."""
        value = field.data or ""
        if not is_zone(value):
            shown = repr(value) if len(value) <= 40 else repr(value[:40])[:-1] + "…'"
            raise ValidationError(
                _("Unknown time zone %(zone)s; pick one from the list.", zone=shown)
            )


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
        lazy_gettext("Work email"),
        validators=[
            DataRequired(lazy_gettext("Please enter your work email.")),
            Email(
                lazy_gettext("That does not look like an email address."),
                check_deliverability=False,
            ),
            Length(max=254),
        ],
    )


#: The empty choice of the language menu: no choice of one's own.
AUTOMATIC = ""


def language_choices() -> list[tuple[str, str]]:
    """Automatic (the browser's language), then each language by its own name.

    One list per page language, built once (forms share it and never change it).
    """
    return _language_choices(current_language())


@lru_cache(maxsize=len(LANGUAGES))
def _language_choices(language: str) -> list[tuple[str, str]]:
    with using(language):
        return [(AUTOMATIC, _("Automatic (browser)")), *LANGUAGE_NAMES.items()]


def language_field() -> SelectField:
    """The language menu of the join form and the preferences page (choices set per request)."""
    return SelectField(
        lazy_gettext("Language"),
        choices=[],
        validators=[
            Optional(),
            AnyOf([AUTOMATIC, *LANGUAGES], message=lazy_gettext("Pick a language from the list.")),
        ],
        validate_choice=False,
    )


def chosen_language(field) -> str | None:
    """The field's value as stored: None for "Automatic"."""
    return field.data or None


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
        raise ValidationError(
            _(
                "Please name at most %(most)s topics (you named %(named)s).",
                most=MAX_TOPICS,
                named=len(topics),
            )
        )
    long = [t for t in topics if len(t) > 60]
    if long:
        raise ValidationError(
            _("Please keep each topic short: %(topic)s… is too long.", topic=repr(long[0][:60]))
        )
    if any(";" in t for t in topics):
        raise ValidationError(_("Separate topics with commas."))


class OptInForm(FlaskForm):
    """Join the coffee breaks: who you are, where you work, your time zone."""

    name = StringField(
        lazy_gettext("Your name"),
        validators=[
            DataRequired(lazy_gettext("Please tell us your name.")),
            Length(max=200),
            PlainText(*NAME_TEXT),
        ],
    )
    email = work_email_field()
    department = StringField(
        lazy_gettext("Department"),
        validators=[
            DataRequired(lazy_gettext("Please tell us your department.")),
            Length(max=200),
            PlainText(*DEPARTMENT_TEXT),
        ],
    )
    office = StringField(
        lazy_gettext("Office"), validators=[Length(max=200), PlainText(*OFFICE_TEXT)]
    )
    remote = BooleanField(lazy_gettext("I work remotely"))
    timezone = SelectField(
        lazy_gettext("Time zone"),
        validate_choice=False,
        validators=[IanaZone()],
        widget=ZoneSelect(),
    )
    language = language_field()
    # What they want to learn (Preference.topics) and can share: learning teams bring the two
    # together. Optional, comma-separated.
    topics = StringField(
        lazy_gettext("Topics you want to learn (optional, comma-separated)"),
        validators=[Length(max=1000), PlainText(*TOPICS_TEXT)],
    )
    share_topics = StringField(
        lazy_gettext("Topics you can share (optional, comma-separated)"),
        validators=[Length(max=1000), PlainText(*TOPICS_TEXT)],
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
        self.language.choices = language_choices()
        if not self.timezone.data:
            self.timezone.data = default_zone

    def validate_office(self, field) -> None:
        """Either an office or 'remote', so rounds know who can meet in person."""
        if not self.remote.data and not (field.data or "").strip():
            raise ValidationError(_("Name your office, or tick 'I work remotely'."))
