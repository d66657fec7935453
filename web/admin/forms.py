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
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from core.enums import Cadence, ProgrammeKind
from core.i18n import LANGUAGE_NAMES
from core.i18n import lazy_gettext as _l
from core.models import WEEKDAYS
from core.programmes import NAME_MAX, RANGES, ROOM_URL_MAX, TOPIC_MAX, room_url_problem
from core.zones import zone_names
from web.forms import IanaZone, PlainText

DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        (
            _l("Monday"),
            _l("Tuesday"),
            _l("Wednesday"),
            _l("Thursday"),
            _l("Friday"),
            _l("Saturday"),
            _l("Sunday"),
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
        _l("Name"),
        validators=[
            DataRequired(_l("Give the programme a name.")),
            Length(max=NAME_MAX),
            PlainText("The name"),
        ],
    )
    topic = StringField(
        _l("Topic (optional)"), validators=[Length(max=TOPIC_MAX), PlainText("The topic")]
    )
    kind = SelectField(
        _l("Kind"),
        validate_choice=False,  # validate_kind: a form without the field keeps "matched"
        choices=[
            SelectChoice(
                ProgrammeKind.MATCHED, _l("Matched: people are put into groups each round")
            ),
            SelectChoice(
                ProgrammeKind.DROP_IN,
                _l("Drop-in room: one daily room anyone joins when they like"),
            ),
        ],
    )
    room_url = StringField(
        _l("Room URL for a drop-in room (empty: a video room Fika makes up, e.g. Jitsi)"),
        validators=[Length(max=ROOM_URL_MAX)],
    )
    active = BooleanField(_l("On: rounds run and people can choose it"))
    cadence = SelectField(
        _l("How often"),
        choices=[
            SelectChoice(Cadence.WEEKLY, _l("Every week")),
            SelectChoice(Cadence.BIWEEKLY, _l("Every two weeks")),
        ],
    )
    days = CheckboxesField(_l("Days"), choices=[SelectChoice(d, n) for d, n in DAY_NAMES.items()])
    local_time = TimeField(
        _l("Local time of the break"), validators=[InputRequired(_l("Give a time."))]
    )
    timezone = SelectField(_l("Time zone"), validate_choice=False, validators=[IanaZone()])
    duration_minutes = IntegerField(
        _l("Break length (minutes)"),
        validators=[InputRequired(_l("Give a length.")), _in_range("duration_minutes")],
    )
    lead_minutes = IntegerField(
        _l("Lead time (minutes before the break that groups are formed and invites sent)"),
        validators=[
            InputRequired(_l("Give a lead time.")),
            _in_range("lead_minutes"),
        ],
    )
    group_size = IntegerField(
        _l("Group size"),
        validators=[
            InputRequired(_l("Give a size.")),
            _in_range("group_size"),
        ],
        render_kw={"min": RANGES["group_size"][0], "max": RANGES["group_size"][1]},
    )
    cooldown_rounds = IntegerField(
        _l("Repeat window (rounds before two people may meet again)"),
        validators=[InputRequired(_l("Give a number.")), _in_range("cooldown_rounds")],
    )
    departments = StringField(
        _l("Departments that may join (comma-separated; empty: all)"),
        validators=[Length(max=2000), PlainText("The list of departments")],
    )
    language = SelectField(
        _l("Language of shared messages (a Slack or Teams channel post)"),
        validate_choice=False,  # core.programmes.settings_problems names an unknown code
        choices=[
            SelectChoice("", _l("Organisation default")),
            *(SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()),
        ],
    )
    offices = StringField(
        _l("Offices that may join (comma-separated, 'remote' for home workers; empty: all)"),
        validators=[Length(max=2000), PlainText("The list of offices")],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = {z: z.replace("_", " ") for z in zone_names()}

    def validate_days(self, field) -> None:
        """At least one weekday, and only real ones."""
        if not field.data:
            raise ValidationError(_l("Choose at least one day."))

    def validate_kind(self, field) -> None:
        """Matched or drop-in; missing means matched (older forms and API clients)."""
        field.data = field.data or ProgrammeKind.MATCHED
        if field.data not in tuple(ProgrammeKind):
            raise ValidationError(_l("Choose matched or drop-in room."))

    def validate_room_url(self, field) -> None:
        """A pasted room (Teams, Meet, Zoom...) must be an https link: it goes into invites."""
        problem = room_url_problem((field.data or "").strip())
        if problem is not None:
            raise ValidationError(problem)


class ImportForm(FlaskForm):
    """The CSV file to check (and then import)."""

    file = FileField(_l("CSV file (UTF-8)"), validators=[FileRequired(_l("Choose a CSV file."))])


class TokenForm(FlaskForm):
    """A name for a new API token, saying what it is for."""

    name = StringField(
        _l("Name (what will use it, e.g. 'Workday sync')"),
        validators=[
            DataRequired(_l("Give the token a name.")),
            Length(max=100),
            PlainText("The name"),
        ],
    )
