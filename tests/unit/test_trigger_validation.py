"""Trigger definitions that would break evaluation later are refused when the flow is
saved, with a message naming the place."""
from __future__ import annotations

import textwrap

import pytest

from kestra_lite.errors import InvalidFlow
from kestra_lite.model.flow_parser import parse_flow

HEAD = """
id: listener
namespace: company.team
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: hi
triggers:
"""


def problems(trigger_yaml: str) -> str:
    with pytest.raises(InvalidFlow) as raised:
        parse_flow(HEAD + textwrap.indent(textwrap.dedent(trigger_yaml), "  "), "f.yaml")
    return str(raised.value)


@pytest.mark.parametrize("trigger, message", [
    ("""
     - id: t
       type: io.kestra.plugin.core.trigger.Flow
       preconditions:
         id: p
         flows:
           - namespace: company
             labels: [{key: env}]
     """, "`labels` list items must be mappings with `key` and `value`"),
    ("""
     - id: t
       type: io.kestra.plugin.core.trigger.Flow
       conditions:
         - type: io.kestra.plugin.core.condition.MultipleCondition
           id: m
           conditions: [{type: io.kestra.plugin.core.condition.ExecutionFlow}]
     """, "`conditions` of a MultipleCondition must be a map"),
    ("""
     - id: t
       type: io.kestra.plugin.core.trigger.ScheduleOnDates
       dates: [not-a-date]
     """, "`not-a-date` is not an ISO date-time"),
    ("""
     - id: t
       type: io.kestra.plugin.core.trigger.Flow
       preconditions:
         id: p
         timeWindow: {type: DURATION_WINDOW, window: PT0S}
     """, "`window` must be longer than zero"),
    ("""
     - id: t
       type: io.kestra.plugin.core.trigger.Flow
       preconditions:
         id: p
         timeWindow: {type: DAILY_TIME_DEADLINE, deadline: "25:00:00"}
     """, "`deadline` must be a time of day"),
    ("""
     - id: t
       type: io.kestra.plugin.core.trigger.Flow
       preconditions:
         id: p
         where:
           - id: w
             filters:
               - {field: FLOW_ID, type: REGEX, value: "(unclosed"}
     """, "Invalid REGEX `(unclosed`"),
    ("""
     - id: t
       type: io.kestra.plugin.core.trigger.Schedule
       cron: "² * * * *"
     """, "Invalid minute `²`"),
])
def test_a_trigger_that_could_not_be_evaluated_is_refused_at_save(trigger, message):
    assert message in problems(trigger)


def test_an_unquoted_time_of_day_stays_a_time():
    flow = parse_flow(HEAD + textwrap.indent(textwrap.dedent("""
        - id: t
          type: io.kestra.plugin.core.trigger.Flow
          preconditions:
            id: p
            timeWindow:
              type: DAILY_TIME_WINDOW
              startTime: 08:00:00
              endTime: 20:00
    """), "  "), "f.yaml")
    window = flow.triggers[0]["preconditions"]["timeWindow"]
    assert (window["startTime"], window["endTime"]) == ("08:00:00", "20:00")
