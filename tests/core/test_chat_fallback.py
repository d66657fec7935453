"""Someone Slack does not know still gets the email invite, and the admin can see who."""

from datetime import date

from sqlalchemy import select

from core.channels import configured_channels
from core.db import db
from core.dispatch import send_due
from core.models import Delivery
from core.programmes import ensure_default_programme
from core.rounds import run_round
from tests.conftest import settings_of
from tests.core.helpers import add_person
from tests.fakes_chat import SLACK_TOKEN, FakeSlackApi
from web.config import current_settings


def test_member_not_on_slack_is_named_on_the_delivery_and_still_gets_the_invite(
    app, make_app, smtp_server
):
    with FakeSlackApi({"ana@example.org": "UANA1"}) as slack:
        chat = make_app(
            FIKA_SLACK_BOT_TOKEN=SLACK_TOKEN,
            FIKA_SLACK_SIGNING_SECRET="s3cret",
            FIKA_SLACK_API_URL=slack.api_url,
            FIKA_SMTP_URL=smtp_server.url(),
            FIKA_MAIL_FROM="Fika <fika@example.org>",
            FIKA_OUTBOX_DIR=None,
        )
        with chat.app_context():
            add_person("ana@example.org", "Sales")
            add_person("ben@example.org", "Legal")
            run_round(
                current_settings(),
                ensure_default_programme(current_settings().timezone),
                date(2030, 1, 7),
            )
            counts = send_due(configured_channels(settings_of(chat)))
            rows = {r.channel: r for r in db.session.scalars(select(Delivery))}
            slack_row = rows["slack"]
            assert counts.dead == 0 and slack_row.status == "sent"
            assert slack_row.last_error == (
                "not reached on slack, the email invite only: ben@example.org"
            )
        # The DM went to Ana alone; both got the email invite.
        assert [c.params["users"] for c in slack.of("conversations.open")] == ["UANA1"]
        assert sorted(r for m in smtp_server.messages for r in m.rcpt_tos) == [
            "ana@example.org",
            "ben@example.org",
        ]
        slack.check()
