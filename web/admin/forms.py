"""Admin forms: a programme's settings, the CSV upload, a token's name, and bare actions."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
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
from core.i18n import gettext as _
from core.i18n import lazy_gettext
from core.models import WEEKDAYS
from core.programmes import NAME_MAX, RANGES, ROOM_URL_MAX, TOPIC_MAX, room_url_problem
from core.zones import zone_names
from web.forms import IanaZone, PlainText

DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
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
        "Name",
        validators=[
            DataRequired("Give the programme a name."),
            Length(max=NAME_MAX),
            PlainText("The name"),
        ],
    )
    topic = StringField(
        "Topic (optional)", validators=[Length(max=TOPIC_MAX), PlainText("The topic")]
    )
    kind = SelectField(
        "Kind",
        validate_choice=False,  # validate_kind: a form without the field keeps "matched"
        choices={
            ProgrammeKind.MATCHED: "Matched: people are put into groups each round",
            ProgrammeKind.DROP_IN: "Drop-in room: one daily room anyone joins when they like",
            # A plain string like its neighbours: wtforms takes any other value for an optgroup.
            ProgrammeKind.LEARNING_TEAM: "Learning teams: formed once around the topic, "
            "meeting until the end date",
        },
    )
    room_url = StringField(
        "Room URL for a drop-in room (empty: a video room Fika makes up, e.g. Jitsi)",
        validators=[Length(max=ROOM_URL_MAX)],
    )
    active = BooleanField("On: rounds run and people can choose it")
    cadence = SelectField(
        "How often", choices={Cadence.WEEKLY: "Every week", Cadence.BIWEEKLY: "Every two weeks"}
    )
    days = CheckboxesField("Days", choices=dict(DAY_NAMES))
    local_time = TimeField("Local time of the break", validators=[InputRequired("Give a time.")])
    timezone = SelectField("Time zone", validate_choice=False, validators=[IanaZone()])
    duration_minutes = IntegerField(
        "Break length (minutes)",
        validators=[InputRequired("Give a length."), _in_range("duration_minutes")],
    )
    lead_minutes = IntegerField(
        "Lead time (minutes before the break that groups are formed and invites sent)",
        validators=[
            InputRequired("Give a lead time."),
            _in_range("lead_minutes"),
        ],
    )
    group_size = IntegerField(
        "Group size",
        validators=[
            InputRequired("Give a size."),
            _in_range("group_size"),
        ],
        render_kw={"min": RANGES["group_size"][0], "max": RANGES["group_size"][1]},
    )
    cooldown_rounds = IntegerField(
        "Repeat window (rounds before two people may meet again)",
        validators=[InputRequired("Give a number."), _in_range("cooldown_rounds")],
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
        "Departments that may join (comma-separated; empty: all)",
        validators=[Length(max=2000), PlainText("The list of departments")],
    )
    offices = StringField(
        "Offices that may join (comma-separated, 'remote' for home workers; empty: all)",
        validators=[Length(max=2000), PlainText("The list of offices")],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = {z: z.replace("_", " ") for z in zone_names()}

    def validate_days(self, field) -> None:
        """At least one weekday, and only real ones."""
        if not field.data:
            raise ValidationError("Choose at least one day.")

    def validate_kind(self, field) -> None:
        """Matched or drop-in; missing means matched (older forms and API clients)."""
        field.data = field.data or ProgrammeKind.MATCHED
        if field.data not in tuple(ProgrammeKind):
            raise ValidationError(_("Choose matched, drop-in room or learning teams."))

    def validate_room_url(self, field) -> None:
        """A pasted room (Teams, Meet, Zoom...) must be an https link: it goes into invites."""
        problem = room_url_problem((field.data or "").strip())
        if problem is not None:
            raise ValidationError(problem)


class ImportForm(FlaskForm):
    """The CSV file to check (and then import)."""

    file = FileField("CSV file (UTF-8)", validators=[FileRequired("Choose a CSV file.")])


class TokenForm(FlaskForm):
    """A name for a new API token, saying what it is for."""

    name = StringField(
        "Name (what will use it, e.g. 'Workday sync')",
        validators=[
            DataRequired("Give the token a name."),
            Length(max=100),
            PlainText("The name"),
        ],
    )
