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
from core.models import WEEKDAYS
from pairing.model import Mode
from web.forms import (
    IanaZone,
    PlainText,
    ZoneSelect,
    check_topics,
    work_email_field,
    zone_choices,
)
from web.input_rules import record_id

DAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                "Saturday", "Sunday"), strict=True))  # fmt: skip
MODE_CHOICES = [
    (Mode.EITHER, "In person or by video"),
    (Mode.IN_PERSON, "In person, when we are at the same office"),
    (Mode.VIRTUAL, "By video"),
]
FREQUENCIES = [
    (Frequency.DAILY, "Every working day"),
    (Frequency.FEW_PER_WEEK, "Two or three times a week"),
    (Frequency.WEEKLY, "Once a week"),
]
GROUP_SIZES = [
    (GroupSizePreference.ONE_TO_ONE, "One-to-one only"),
    (GroupSizePreference.SMALL_GROUPS, "Small groups welcome"),
]
PAUSE_LENGTHS = [
    ("week", "One week"),
    ("two_weeks", "Two weeks"),
    ("month", "A month"),
    ("until", "Until a date"),
]
REMOTE = "remote"
MAX_PAUSE_DAYS = 366
assert {m for m, _ in MODE_CHOICES} == set(Mode)


class SignInForm(FlaskForm):
    """Ask for a sign-in link."""

    email = work_email_field()
    next = StringField(validators=[Optional(), Length(max=500)])


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (sign in with a link, sign out, leave, resume)."""


class AnswerForm(FlaskForm):
    """One answer from a fixed set: 'I'm in' / 'Can't make it', or 'did you meet?'."""

    answer = StringField(validators=[DataRequired("Pick an answer.")])


class PreferencesForm(FlaskForm):
    """How, where and when the signed-in person takes part. Weekday fields are added below."""

    mode = SelectField("How would you like to meet?")
    timezone = SelectField(
        "Time zone", validate_choice=False, validators=[IanaZone()], widget=ZoneSelect()
    )
    work_start = TimeField("Working hours start", validators=[DataRequired("Enter a start time.")])
    work_end = TimeField("Working hours end", validators=[DataRequired("Enter an end time.")])
    frequency = RadioField("How often?")
    group_size_pref = RadioField("Group size")
    topics = StringField(
        "Topics you would like to learn about",
        validators=[Length(max=1000), PlainText("The topics")],
    )
    share_topics = StringField(
        "Topics you can share", validators=[Length(max=1000), PlainText("The topics")]
    )
    avoid = SelectMultipleField(
        "Rather not be matched with", coerce=record_id, validate_choice=False
    )
    reminders = BooleanField("Remind me before each break")

    def __init__(self, *args, offices: list[str], person_id: int, known_ids=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Choices are set here, not in the class: WTForms 3.3 warns about tuples at declaration.
        self.mode.choices = MODE_CHOICES
        self.frequency.choices = FREQUENCIES
        self.group_size_pref.choices = GROUP_SIZES
        self.timezone.choices = zone_choices()
        self.offices = offices
        self.person_id = person_id
        self.known_ids = known_ids or (lambda ids: set())
        for day in WEEKDAYS:
            self[f"site_{day}"].choices = [(REMOTE, "Remote"), *((o, o) for o in offices)]

    def validate_work_end(self, field) -> None:
        if self.work_start.data and field.data and field.data <= self.work_start.data:
            raise ValidationError("The end of your working hours must be after the start.")

    def validate_topics(self, field) -> None:
        check_topics(field)

    def validate_share_topics(self, field) -> None:
        check_topics(field)

    def validate_avoid(self, field) -> None:
        ids = set(field.data or [])
        if self.person_id in ids:
            raise ValidationError("You cannot avoid yourself.")
        unknown = ids - self.known_ids(ids)
        if unknown:
            raise ValidationError("Someone in that list is not in your organisation.")

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
                f"Unknown office {field.data!r} on {DAY_NAMES[day]}; pick one from the list."
            )

    return check


for _day in WEEKDAYS:
    setattr(PreferencesForm, f"day_{_day}", BooleanField(f"Take part on {DAY_NAMES[_day]}"))
    setattr(
        PreferencesForm,
        f"site_{_day}",
        SelectField(
            f"Where you work on {DAY_NAMES[_day]}",
            validate_choice=False,
            validators=[_site_validator(_day)],
        ),
    )


class PauseForm(FlaskForm):
    """Pause for a while; the breaks start again by themselves on the day given."""

    length = RadioField("Pause for", validators=[DataRequired("Choose how long to pause.")])
    until = DateField("Until (the day you take part again)", validators=[Optional()])

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
            problem = "Enter the date you want to take part again."
        elif day <= self.today:
            problem = "Pick a date after today: that one is in the past."
        elif day > self.today + timedelta(days=MAX_PAUSE_DAYS):
            problem = "Pause for at most a year; you can always leave instead."
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
        "I understand that this erases my details and my coffee-break history for good",
        validators=[DataRequired("Tick the box to confirm that you want to be deleted.")],
    )
