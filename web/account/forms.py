"""The forms of the people's side, each bad field with a message a person can act on."""

from __future__ import annotations

from datetime import date, timedelta

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from core.enums import Frequency, GroupSizePreference
from core.i18n import gettext as _
from core.i18n import lazy_gettext
from core.models import WEEKDAYS
from pairing.model import Mode
from web.forms import (
    TOPICS_TEXT,
    IanaZone,
    PlainText,
    ZoneSelect,
    check_topics,
    language_choices,
    language_field,
    work_email_field,
    zone_choices,
)
from web.input_rules import record_id

DAY_NAMES = dict(zip(WEEKDAYS, (lazy_gettext("Monday"), lazy_gettext("Tuesday"),
    lazy_gettext("Wednesday"), lazy_gettext("Thursday"), lazy_gettext("Friday"),
    lazy_gettext("Saturday"), lazy_gettext("Sunday")), strict=True))  # fmt: skip
#: Each weekday's two field labels, whole sentences (the day is part of what is translated).
DAY_LABELS = {
    "mon": (lazy_gettext("Take part on Monday"), lazy_gettext("Where you work on Monday")),
    "tue": (lazy_gettext("Take part on Tuesday"), lazy_gettext("Where you work on Tuesday")),
    "wed": (lazy_gettext("Take part on Wednesday"), lazy_gettext("Where you work on Wednesday")),
    "thu": (lazy_gettext("Take part on Thursday"), lazy_gettext("Where you work on Thursday")),
    "fri": (lazy_gettext("Take part on Friday"), lazy_gettext("Where you work on Friday")),
    "sat": (lazy_gettext("Take part on Saturday"), lazy_gettext("Where you work on Saturday")),
    "sun": (lazy_gettext("Take part on Sunday"), lazy_gettext("Where you work on Sunday")),
}
MODE_CHOICES = [
    (Mode.EITHER, lazy_gettext("In person or by video")),
    (Mode.IN_PERSON, lazy_gettext("In person, when we are at the same office")),
    (Mode.VIRTUAL, lazy_gettext("By video")),
]
FREQUENCIES = [
    (Frequency.DAILY, lazy_gettext("Every working day")),
    (Frequency.FEW_PER_WEEK, lazy_gettext("Two or three times a week")),
    (Frequency.WEEKLY, lazy_gettext("Once a week")),
]
GROUP_SIZES = [
    (GroupSizePreference.ONE_TO_ONE, lazy_gettext("One-to-one only")),
    (GroupSizePreference.SMALL_GROUPS, lazy_gettext("Small groups welcome")),
]
PAUSE_LENGTHS = [
    ("week", lazy_gettext("One week")),
    ("two_weeks", lazy_gettext("Two weeks")),
    ("month", lazy_gettext("A month")),
    ("until", lazy_gettext("Until a date")),
]
REMOTE = "remote"
MAX_PAUSE_DAYS = 366
assert {m for m, _ in MODE_CHOICES} == set(Mode)
assert set(DAY_LABELS) == set(WEEKDAYS)


class SignInForm(FlaskForm):
    """Ask for a sign-in link."""

    email = work_email_field()
    next = StringField(validators=[Optional(), Length(max=500)])


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (sign in with a link, sign out, leave, resume)."""


class AnswerForm(FlaskForm):
    """One answer from a fixed set: 'I'm in' / 'Can't make it', or 'did you meet?'."""

    answer = StringField(validators=[DataRequired(lazy_gettext("Pick an answer."))])


class PreferencesForm(FlaskForm):
    """How, where and when the signed-in person takes part. Weekday fields are added below."""

    mode = SelectField(lazy_gettext("How would you like to meet?"))
    timezone = SelectField(
        lazy_gettext("Time zone"),
        validate_choice=False,
        validators=[IanaZone()],
        widget=ZoneSelect(),
    )
    work_start = TimeField(
        lazy_gettext("Working hours start"),
        validators=[DataRequired(lazy_gettext("Enter a start time."))],
    )
    work_end = TimeField(
        lazy_gettext("Working hours end"),
        validators=[DataRequired(lazy_gettext("Enter an end time."))],
    )
    frequency = RadioField(lazy_gettext("How often?"))
    group_size_pref = RadioField(lazy_gettext("Group size"))
    topics = StringField(
        lazy_gettext("Topics you would like to learn about"),
        validators=[Length(max=1000), PlainText(*TOPICS_TEXT)],
    )
    share_topics = StringField(
        lazy_gettext("Topics you can share"),
        validators=[Length(max=1000), PlainText(*TOPICS_TEXT)],
    )
    avoid = SelectMultipleField(
        lazy_gettext("Rather not be matched with"), coerce=record_id, validate_choice=False
    )
    reminders = BooleanField(lazy_gettext("Remind me before each break"))
    language = language_field()

    def __init__(self, *args, offices: list[str], person_id: int, known_ids=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Choices are set here, not in the class: WTForms 3.3 warns about tuples at declaration.
        self.mode.choices = MODE_CHOICES
        self.frequency.choices = FREQUENCIES
        self.group_size_pref.choices = GROUP_SIZES
        self.timezone.choices = zone_choices()
        self.language.choices = language_choices()
        self.offices = offices
        self.person_id = person_id
        self.known_ids = known_ids or (lambda ids: set())
        for day in WEEKDAYS:
            self[f"site_{day}"].choices = [(REMOTE, _("Remote")), *((o, o) for o in offices)]

    def validate_work_end(self, field) -> None:
        if self.work_start.data and field.data and field.data <= self.work_start.data:
            raise ValidationError(_("The end of your working hours must be after the start."))

    def validate_topics(self, field) -> None:
        check_topics(field)

    def validate_share_topics(self, field) -> None:
        check_topics(field)

    def validate_avoid(self, field) -> None:
        ids = set(field.data or [])
        if self.person_id in ids:
            raise ValidationError(_("You cannot avoid yourself."))
        unknown = ids - self.known_ids(ids)
        if unknown:
            raise ValidationError(_("Someone in that list is not in your organisation."))

    def day_fields(self):
        """(day key, day name, take-part checkbox, site select) for the weekday table."""
        return [
            (d, DAY_NAMES[d], self[f"day_{d}"], self[f"site_{d}"]) for d in WEEKDAYS
        ]  # fmt: skip

    def chosen_days(self) -> list[str]:
        return [d for d in WEEKDAYS if self[f"day_{d}"].data]

    def chosen_sites(self, kept: dict[str, str | None]) -> dict[str, str | None]:
        """The office (None: remote) per weekday; ``kept`` for a day whose menu was not sent.

        A browser does not send a disabled menu, and fika.js disables the menu of a day that is
        not ticked: that day keeps the office it had, ready for when it is ticked again.
        """
        sites = {}
        for d in WEEKDAYS:
            value = self[f"site_{d}"].data
            sites[d] = kept.get(d) if value is None else (None if value == REMOTE else value)
        return sites


def _site_validator(day: str):
    def check(form: PreferencesForm, field) -> None:
        if field.data is None and not form[f"day_{day}"].data:
            return  # not taking part that day: its (disabled) menu was not sent
        if field.data != REMOTE and field.data not in form.offices:
            raise ValidationError(
                _(
                    "Unknown office %(office)s on %(day)s; pick one from the list.",
                    office=repr(field.data),
                    day=DAY_NAMES[day],
                )
            )

    return check


for _day in WEEKDAYS:
    setattr(PreferencesForm, f"day_{_day}", BooleanField(DAY_LABELS[_day][0]))
    setattr(
        PreferencesForm,
        f"site_{_day}",
        SelectField(
            DAY_LABELS[_day][1],
            validate_choice=False,
            validators=[_site_validator(_day)],
        ),
    )


class PauseForm(FlaskForm):
    """Pause for a while; the breaks start again by themselves on the day given."""

    length = RadioField(
        lazy_gettext("Pause for"),
        validators=[DataRequired(lazy_gettext("Choose how long to pause."))],
    )
    until = DateField(lazy_gettext("Until (the day you take part again)"), validators=[Optional()])

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.length.choices = PAUSE_LENGTHS
        self.today = today

    def validate(self, extra_validators=None) -> bool:
        """The date only matters for "Until a date" (``Optional`` would skip an inline check)."""
        if not super().validate(extra_validators):
            return False
        if self.length.data != "until":
            return True
        day = self.until.data
        if day is None:
            problem = _("Enter the date you want to take part again.")
        elif day <= self.today:
            problem = _("Pick a date after today: that one is in the past.")
        elif day > self.today + timedelta(days=MAX_PAUSE_DAYS):
            problem = _("Pause for at most a year; you can always leave instead.")
        else:
            return True
        self.until.errors = [*self.until.errors, problem]
        return False

    def resume_on(self) -> date:
        """The first day the person takes part again."""
        days = {"week": 7, "two_weeks": 14, "month": 30}
        if self.length.data == "until":
            return self.until.data
        return self.today + timedelta(days=days[self.length.data])


class DeleteForm(FlaskForm):
    """Erase everything: an explicit tick, so a stray click deletes nothing."""

    confirm = BooleanField(
        lazy_gettext(
            "I understand that this erases my details and my coffee-break history for good"
        ),
        validators=[
            DataRequired(lazy_gettext("Tick the box to confirm that you want to be deleted."))
        ],
    )
