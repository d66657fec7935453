"""Admin forms: a programme's settings, the CSV upload, a token's name, and bare actions."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
)
from wtforms.fields import DateField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from core.enums import Cadence, ProgrammeKind
from core.i18n import LANGUAGE_NAMES, lazy_gettext
from core.models import WEEKDAYS
from core.programmes import (
    NAME_MAX,
    RANGES,
    ROOM_URL_MAX,
    TOPIC_MAX,
    room_url_problem,
    slack_channel_problem,
)
from core.zones import zone_names
from web.forms import (
    DEPARTMENTS_TEXT,
    OFFICES_TEXT,
    THE_NAME_TEXT,
    TOPIC_TEXT,
    IanaZone,
    PlainText,
)

DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        (
            lazy_gettext("Monday"),
            lazy_gettext("Tuesday"),
            lazy_gettext("Wednesday"),
            lazy_gettext("Thursday"),
            lazy_gettext("Friday"),
            lazy_gettext("Saturday"),
            lazy_gettext("Sunday"),
        ),
        strict=True,
    )
)


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (accessible without script)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def names(text: str | None) -> list[str]:
    """'Sales, Research,' -> ['Sales', 'Research'] (order kept, duplicates dropped)."""
    seen: dict[str, None] = {}
    for part in (text or "").split(","):
        if part.strip():
            seen.setdefault(part.strip(), None)
    return list(seen)


def _in_range(name: str) -> NumberRange:
    """The range ``core.programmes.RANGES`` gives the setting, with its message."""
    low, high, message = RANGES[name]
    return NumberRange(low, high, message)


class ProgrammeForm(FlaskForm):
    """Everything a programme needs: when, how long, how big, who may join."""

    name = StringField(
        lazy_gettext("Name"),
        validators=[
            DataRequired(lazy_gettext("Give the programme a name.")),
            Length(max=NAME_MAX),
            PlainText(*THE_NAME_TEXT),
        ],
    )
    topic = StringField(
        lazy_gettext("Topic (optional)"), validators=[Length(max=TOPIC_MAX), PlainText(*TOPIC_TEXT)]
    )
    kind = SelectField(
        lazy_gettext("Kind"),
        validate_choice=False,  # validate_kind: a form without the field keeps "matched"
        choices=[
            SelectChoice(
                ProgrammeKind.MATCHED,
                lazy_gettext("Matched: people are put into groups each round"),
            ),
            SelectChoice(
                ProgrammeKind.DROP_IN,
                lazy_gettext("Drop-in room: one daily room anyone joins when they like"),
            ),
            SelectChoice(
                ProgrammeKind.LEARNING_TEAM,
                lazy_gettext(
                    "Learning teams: formed once around the topic, meeting until the end date"
                ),
            ),
        ],
    )
    room_url = StringField(
        lazy_gettext("Room URL for a drop-in room (empty: a video room Fika makes up, e.g. Jitsi)"),
        validators=[Length(max=ROOM_URL_MAX)],
    )
    active = BooleanField(lazy_gettext("On: rounds run and people can choose it"))
    cadence = SelectField(
        lazy_gettext("How often"),
        choices=[
            SelectChoice(Cadence.WEEKLY, lazy_gettext("Every week")),
            SelectChoice(Cadence.BIWEEKLY, lazy_gettext("Every two weeks")),
        ],
    )
    days = CheckboxesField(
        lazy_gettext("Days"), choices=[SelectChoice(d, n) for d, n in DAY_NAMES.items()]
    )
    local_time = TimeField(
        lazy_gettext("Local time of the break"),
        validators=[InputRequired(lazy_gettext("Give a time."))],
    )
    timezone = SelectField(
        lazy_gettext("Time zone"), validate_choice=False, validators=[IanaZone()]
    )
    duration_minutes = IntegerField(
        lazy_gettext("Break length (minutes)"),
        validators=[InputRequired(lazy_gettext("Give a length.")), _in_range("duration_minutes")],
    )
    lead_minutes = IntegerField(
        lazy_gettext(
            "Lead time (minutes before the break that groups are formed and invites sent)"
        ),
        validators=[
            InputRequired(lazy_gettext("Give a lead time.")),
            _in_range("lead_minutes"),
        ],
    )
    group_size = IntegerField(
        lazy_gettext("Group size"),
        validators=[
            InputRequired(lazy_gettext("Give a size.")),
            _in_range("group_size"),
        ],
        render_kw={"min": RANGES["group_size"][0], "max": RANGES["group_size"][1]},
    )
    cooldown_rounds = IntegerField(
        lazy_gettext("Repeat window (rounds before two people may meet again)"),
        validators=[InputRequired(lazy_gettext("Give a number.")), _in_range("cooldown_rounds")],
    )
    starts_on = DateField(
        lazy_gettext("Learning teams: start date"), validators=[Optional()], format="%Y-%m-%d"
    )
    ends_on = DateField(
        lazy_gettext("Learning teams: end date (the deadline)"),
        validators=[Optional()],
        format="%Y-%m-%d",
    )
    departments = StringField(
        lazy_gettext("Departments that may join (comma-separated; empty: all)"),
        validators=[Length(max=2000), PlainText(*DEPARTMENTS_TEXT)],
    )
    language = SelectField(
        lazy_gettext("Language of shared messages (a Slack or Teams channel post)"),
        validate_choice=False,  # core.programmes.settings_problems names an unknown code
        choices=[
            SelectChoice("", lazy_gettext("Organisation default")),
            *(SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()),
        ],
    )
    offices = StringField(
        lazy_gettext(
            "Offices that may join (comma-separated, 'remote' for home workers; empty: all)"
        ),
        validators=[Length(max=2000), PlainText(*OFFICES_TEXT)],
    )

    slack_channel_id = StringField(
        "Slack channel id (its members take part; empty: not linked)",
        validators=[Length(max=32)],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = {z: z.replace("_", " ") for z in zone_names()}

    def validate_days(self, field) -> None:
        """At least one weekday, and only real ones."""
        if not field.data:
            raise ValidationError(lazy_gettext("Choose at least one day."))

    def validate_kind(self, field) -> None:
        """Matched or drop-in; missing means matched (older forms and API clients)."""
        field.data = field.data or ProgrammeKind.MATCHED
        if field.data not in tuple(ProgrammeKind):
            raise ValidationError(lazy_gettext("Choose matched, drop-in room or learning teams."))

    def validate_room_url(self, field) -> None:
        """A pasted room (Teams, Meet, Zoom...) must be an https link: it goes into invites."""
        problem = room_url_problem((field.data or "").strip())
        if problem is not None:
            raise ValidationError(problem)

    def validate_slack_channel_id(self, field) -> None:
        """A Slack channel id (C0123ABCD) or nothing; the name is not unique in Slack."""
        problem = slack_channel_problem((field.data or "").strip())
        if problem is not None:
            raise ValidationError(problem)


class ImportForm(FlaskForm):
    """The CSV file to check (and then import)."""

    file = FileField(
        lazy_gettext("CSV file (UTF-8)"),
        validators=[FileRequired(lazy_gettext("Choose a CSV file."))],
    )


class ProgrammeImportForm(ImportForm):
    """A programmes CSV to import, or only check (a dry run)."""

    dry_run = BooleanField(lazy_gettext("Only check the file; write nothing"))


class TokenForm(FlaskForm):
    """A name for a new API token, saying what it is for."""

    name = StringField(
        lazy_gettext("Name (what will use it, e.g. 'Workday sync')"),
        validators=[
            DataRequired(lazy_gettext("Give the token a name.")),
            Length(max=100),
            PlainText(*THE_NAME_TEXT),
        ],
    )
