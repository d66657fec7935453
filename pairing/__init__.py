"""Fika's pairing engine: who meets whom, when, and why. Pure: no I/O, no clock.

``plan_round(PlanRequest) -> Plan`` is the engine; ``parse_request`` and
``plan_json`` are its JSON edge, used by ``fika plan`` and by the service's rounds.
``form_teams(TeamRequest) -> TeamPlan`` forms learning teams around a topic.
"""

from pairing.model import (
    Group,
    HistoryRound,
    Participant,
    Plan,
    PlanRequest,
    RequestError,
    Unmatched,
)
from pairing.planner import plan_round
from pairing.request import parse_request, plan_json, plan_to_dict
from pairing.teams import ExistingTeam, Team, TeamPlan, TeamRequest, form_teams

__all__ = [
    "ExistingTeam",
    "Group",
    "HistoryRound",
    "Participant",
    "Plan",
    "PlanRequest",
    "RequestError",
    "Team",
    "TeamPlan",
    "TeamRequest",
    "Unmatched",
    "form_teams",
    "parse_request",
    "plan_json",
    "plan_round",
    "plan_to_dict",
]
