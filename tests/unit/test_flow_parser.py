"""Flow YAML parsing and validation: every problem with its line:column."""
from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from kestra_lite.errors import InvalidFlow, Problem
from kestra_lite.model import catalog
from kestra_lite.model.durations import format_duration, parse_duration
from kestra_lite.model.flow_parser import parse_flow, parse_flows

FLOWS = Path("/work/shared/conformance/flows")
CONFORMANCE_FILES = sorted(p.name for p in FLOWS.iterdir() if p.suffix in (".yaml", ".yml"))


def problems_of(source: str) -> list[str]:
    with pytest.raises(InvalidFlow) as info:
        parse_flow(textwrap.dedent(source))
    return [str(p) for p in info.value.problems]


def only_problem(source: str) -> str:
    problems = problems_of(source)
    assert len(problems) == 1, problems
    return problems[0]


HEAD = "id: demo\nnamespace: company.team\n"


# -- the conformance corpus -------------------------------------------------------------

def test_the_conformance_corpus_has_80_flows():
    assert len(CONFORMANCE_FILES) == 80


@pytest.mark.parametrize("name", CONFORMANCE_FILES)
def test_every_conformance_flow_parses(name):
    source = (FLOWS / name).read_text()
    flow = parse_flow(source, name)
    assert flow.id and flow.namespace and flow.tasks
    assert flow.source == source
    for task in flow.walk():
        assert catalog.lookup(task.type).type == task.type
        assert task.line is not None


# -- building the Flow/Task values ------------------------------------------------------

def test_a_minimal_flow_becomes_flow_and_task_values():
    flow = parse_flow(HEAD + textwrap.dedent("""\
        description: hello
        labels:
          team: data
          enabled: true
          count: 3
        tasks:
          - id: hello
            type: io.kestra.core.tasks.log.Log
            message: "Hi {{ flow.id }}"
            allowFailure: true
            runIf: false
            timeout: PT5M
            logLevel: WARN
        """), tenant="acme")
    assert (flow.id, flow.namespace, flow.tenant, flow.revision) == \
        ("demo", "company.team", "acme", 1)
    assert flow.description == "hello"
    assert flow.labels == [{"key": "team", "value": "data"},
                           {"key": "enabled", "value": "true"},
                           {"key": "count", "value": "3"}]
    task = flow.tasks[0]
    assert task.type == "io.kestra.plugin.core.log.Log"   # legacy alias resolved
    assert task.kind == "runnable"
    assert task.props == {"message": "Hi {{ flow.id }}"}
    assert task.allow_failure is True and task.run_if == "false"
    assert task.timeout == "PT5M" and task.log_level == "WARN"
    assert task.line == 9


def test_flowable_children_go_to_children_and_switch_cases_keys_become_strings():
    flow = parse_flow(HEAD + textwrap.dedent("""\
        tasks:
          - id: sw
            type: io.kestra.plugin.core.flow.Switch
            value: "{{ inputs.x }}"
            cases:
              true:
                - {id: a, type: io.kestra.plugin.core.debug.Return, format: a}
              1:
                - {id: b, type: io.kestra.plugin.core.debug.Return, format: b}
            defaults:
              - {id: c, type: io.kestra.plugin.core.debug.Return, format: c}
            errors:
              - {id: d, type: io.kestra.plugin.core.debug.Return, format: d}
          - id: cond
            type: io.kestra.plugin.core.flow.If
            condition: "{{ true }}"
            then:
              - {id: e, type: io.kestra.plugin.core.debug.Return}
            else:
              - {id: f, type: io.kestra.plugin.core.debug.Return}
        """))
    switch, cond = flow.tasks
    assert list(switch.cases) == ["true", "1"]
    assert [t.id for t in switch.children["defaults"]] == ["c"]
    assert [t.id for t in switch.children["errors"]] == ["d"]
    assert switch.props == {"value": "{{ inputs.x }}"}
    assert [t.id for t in cond.children["then"]] == ["e"]
    assert [t.id for t in cond.children["else"]] == ["f"]
    assert sorted(t.id for t in flow.walk()) == ["a", "b", "c", "cond", "d", "e", "f", "sw"]


def test_dag_tasks_become_children_and_depends_on():
    flow = parse_flow((FLOWS / "dag.yaml").read_text())
    dag = flow.tasks[0]
    assert [t.id for t in dag.children["tasks"]] == [f"task{i}" for i in range(1, 7)]
    assert dag.depends_on["task5"] == ["task4", "task3"]
    assert dag.depends_on["task1"] == []


def test_pause_keeps_on_resume_in_props_and_its_deprecated_tasks_as_children():
    flow = parse_flow((FLOWS / "pause_on_resume.yaml").read_text())
    assert flow.tasks[0].props["onResume"][0] == {"id": "asked", "type": "STRING"}
    flow = parse_flow((FLOWS / "pause-delay.yaml").read_text())
    assert [t.id for t in flow.tasks[0].children["tasks"]] == ["subtask"]


def test_plugin_defaults_fill_missing_properties_and_forced_ones_override():
    flow = parse_flow(HEAD + textwrap.dedent("""\
        pluginDefaults:
          - type: io.kestra.plugin.core.log.Log
            values:
              message: default message
              level: ERROR
          - type: io.kestra.plugin.core.debug
            forced: true
            values:
              format: forced
        tasks:
          - id: a
            type: io.kestra.plugin.core.log.Log
            level: WARN
          - id: b
            type: io.kestra.plugin.core.debug.Return
            format: mine
        """))
    assert flow.tasks[0].props == {"message": "default message", "level": "WARN"}
    assert flow.tasks[1].props == {"format": "forced"}


def test_deprecated_task_defaults_apply_like_plugin_defaults():
    flow = parse_flow(HEAD + textwrap.dedent("""\
        taskDefaults:
          - type: io.kestra.plugin.core.log.Log
            values: {message: from defaults}
        tasks:
          - {id: a, type: io.kestra.plugin.core.log.Log}
        """))
    assert flow.tasks[0].props["message"] == "from defaults"


def test_concurrency_behavior_defaults_to_queue():
    flow = parse_flow(HEAD + "concurrency:\n  limit: 2\ntasks:\n"
                             "  - {id: a, type: io.kestra.plugin.core.debug.Return}\n")
    assert flow.concurrency == {"limit": 2, "behavior": "QUEUE"}


def test_labels_in_list_form_and_system_read_only_are_accepted():
    flow = parse_flow(HEAD + textwrap.dedent("""\
        labels:
          - key: system.readOnly
            value: true
          - {key: env, value: prod}
        tasks:
          - {id: a, type: io.kestra.plugin.core.debug.Return}
        """))
    assert flow.labels == [{"key": "system.readOnly", "value": "true"},
                           {"key": "env", "value": "prod"}]


def test_yaml_dates_stay_strings():
    flow = parse_flow(HEAD + textwrap.dedent("""\
        inputs:
          - {id: d, type: DATE, after: 2023-01-01}
        variables:
          day: 2024-05-01
        tasks:
          - {id: a, type: io.kestra.plugin.core.debug.Return}
        """))
    assert flow.inputs[0].props["after"] == "2023-01-01"
    assert flow.variables == {"day": "2024-05-01"}


def test_several_documents_give_several_flows():
    flows = parse_flows("id: a\nnamespace: n\ntasks:\n  - {id: t, type: io.kestra.plugin.core."
                        "debug.Return}\n---\nid: b\nnamespace: n\ntasks:\n  - {id: t, type: "
                        "io.kestra.plugin.core.debug.Return}\n")
    assert [f.id for f in flows] == ["a", "b"]


def test_problems_of_later_documents_have_file_lines():
    with pytest.raises(InvalidFlow) as info:
        parse_flows("id: a\nnamespace: n\ntasks:\n  - {id: t, type: io.kestra.plugin.core."
                    "debug.Return}\n---\nid: b\nnamespace: n\ntasks: []\n")
    assert [str(p) for p in info.value.problems] == ["8:8: `tasks` of flow must not be empty"]


# -- validation problems with their positions -------------------------------------------

def test_a_yaml_syntax_error_gives_the_line_and_column_of_the_yaml_error():
    assert only_problem("""\
        id: a
        namespace: b
        tasks:
          - id: x
           type: y
        """).startswith("5:4: Invalid YAML: ")


def test_required_top_level_keys_are_reported_at_the_top():
    assert problems_of("description: x\n") == [
        "1:1: Missing required property `id`",
        "1:1: Missing required property `namespace`",
        "1:1: Missing required property `tasks` of flow",
    ]


def test_an_empty_task_list_is_rejected():
    assert only_problem(HEAD + "tasks: []\n") == "3:8: `tasks` of flow must not be empty"


def test_ids_must_match_their_patterns():
    assert problems_of("""\
        id: my flow
        namespace: Company.Team
        inputs:
          - id: "bad input"
            type: STRING
        tasks:
          - id: a.b
            type: io.kestra.plugin.core.debug.Return
        """) == [
        "1:5: Invalid flow id `my flow`: must match `^[a-zA-Z0-9][a-zA-Z0-9._-]*$`",
        "2:12: Invalid namespace `Company.Team`: must match `^[a-z0-9][a-z0-9._-]*$`",
        "4:9: Invalid input id `bad input`: must match `^[a-zA-Z0-9][.a-zA-Z0-9_-]*$`",
        "7:9: Invalid task id `a.b`: must match `^[a-zA-Z0-9][a-zA-Z0-9_-]*$` (no dots)",
    ]


def test_unknown_top_level_keys_are_reported_at_the_key():
    assert only_problem(HEAD + "finally: []\ntasks:\n"
                               "  - {id: a, type: io.kestra.plugin.core.debug.Return}\n") == \
        "3:1: Unknown top-level property `finally`"


def test_an_unknown_task_type_suggests_the_closest_one():
    assert only_problem(HEAD + textwrap.dedent("""\
        tasks:
          - id: hello
            type: io.kestra.plugin.core.log.Lgo
            message: hi
        """)) == ("5:11: Unknown task type `io.kestra.plugin.core.log.Lgo`, did you mean "
                  "`io.kestra.plugin.core.log.Log`?")


def test_unknown_properties_are_reported_with_the_task_and_a_suggestion():
    assert problems_of(HEAD + textwrap.dedent("""\
        tasks:
          - id: hello
            type: io.kestra.plugin.core.log.Log
            mesage: hi
        """)) == [
        "4:5: Missing required property `message` of task `hello` "
        "(io.kestra.plugin.core.log.Log)",
        "6:5: Unknown property `mesage` of task `hello` (io.kestra.plugin.core.log.Log), "
        "did you mean `message`?",
    ]


def test_common_task_properties_are_tolerated():
    parse_flow(HEAD + textwrap.dedent("""\
        tasks:
          - id: hello
            type: io.kestra.plugin.core.log.Log
            message: hi
            description: d
            retry: {type: constant, interval: PT1S, maxAttempt: 2}
            timeout: PT1M
            disabled: false
            allowFailure: true
            allowWarning: true
            runIf: "{{ true }}"
            logLevel: INFO
            logToFile: true
            workerGroup: {key: gpu}
        """))


def test_script_tasks_are_lenient_about_properties():
    flow = parse_flow(HEAD + textwrap.dedent("""\
        tasks:
          - id: sh
            type: io.kestra.plugin.scripts.shell.Commands
            commands: [echo hi]
            someFutureOption: 1
        """))
    assert flow.tasks[0].props == {"commands": ["echo hi"], "someFutureOption": 1}


def test_wrong_property_kinds_are_reported_unless_the_value_is_an_expression():
    assert problems_of(HEAD + textwrap.dedent("""\
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: [1, 2]
            concurrencyLimit: many
            tasks:
              - id: log
                type: io.kestra.plugin.core.log.Log
                message: {a: b}
                level: LOUD
          - id: par
            type: io.kestra.plugin.core.flow.Parallel
            concurrent: "{{ inputs.n }}"
            tasks:
              - {id: r, type: io.kestra.plugin.core.debug.Return}
          - id: sleep
            type: io.kestra.plugin.core.flow.Sleep
            duration: 5 seconds
        """)) == [
        "7:23: Invalid value for `concurrencyLimit` of task `each` "
        "(io.kestra.plugin.core.flow.ForEach): expected an integer, got `many`",
        "11:18: Invalid value for `message` of task `log` (io.kestra.plugin.core.log.Log): "
        "expected a string or a list of strings, got `{'a': 'b'}`",
        "12:16: Invalid value for `level` of task `log` (io.kestra.plugin.core.log.Log): "
        "expected one of TRACE, DEBUG, INFO, WARN, ERROR, got `LOUD`",
        "20:15: Invalid `duration` of task `sleep` (io.kestra.plugin.core.flow.Sleep): "
        "Invalid duration `5 seconds`: expected an ISO-8601 duration such as `PT30S`, "
        "`PT5M`, `PT1H30M` or `P1D`",
    ]


def test_duplicate_task_ids_are_found_across_every_branch():
    assert only_problem(HEAD + textwrap.dedent("""\
        tasks:
          - id: seq
            type: io.kestra.plugin.core.flow.Sequential
            tasks:
              - {id: same, type: io.kestra.plugin.core.debug.Return}
        errors:
          - {id: same, type: io.kestra.plugin.core.debug.Return}
        """)) == "9:10: Duplicate task id with name [same]"


def test_duplicate_trigger_and_output_ids_are_rejected():
    assert problems_of(HEAD + textwrap.dedent("""\
        tasks:
          - {id: a, type: io.kestra.plugin.core.debug.Return}
        outputs:
          - {id: o, type: STRING, value: x}
          - {id: o, type: STRING, value: y}
        triggers:
          - {id: t, type: io.kestra.plugin.core.trigger.Schedule, cron: "@daily"}
          - {id: t, type: io.kestra.plugin.core.trigger.Schedule, cron: "@hourly"}
        """)) == [
        "7:10: Duplicate output id with name [o]",
        "10:10: Duplicate trigger id with name [t]",
    ]


def test_dag_cycles_and_unknown_dependencies_are_reported():
    assert problems_of(HEAD + textwrap.dedent("""\
        tasks:
          - id: dag
            type: io.kestra.plugin.core.flow.Dag
            tasks:
              - task: {id: task1, type: io.kestra.plugin.core.debug.Return}
                dependsOn: [task2]
              - task: {id: task2, type: io.kestra.plugin.core.debug.Return}
                dependsOn: [task1, taskX]
        """)) == [
        "7:7: dag: Cyclic dependency detected: task1, task2",
        "10:28: dag: Not existing task id in dependency: taskX",
    ]


def test_a_subflow_calling_its_own_flow_is_rejected():
    assert only_problem(HEAD + textwrap.dedent("""\
        tasks:
          - id: me
            type: io.kestra.plugin.core.flow.Subflow
            namespace: company.team
            flowId: demo
        """)) == "4:5: Recursive call to flow [company.team.demo]"


def test_system_flow_labels_other_than_read_only_are_rejected():
    assert only_problem(HEAD + "labels:\n  system.readOnly: true\n  system.username: bob\n"
                               "tasks:\n  - {id: a, type: io.kestra.plugin.core.debug.Return}\n"
                        ) == ("5:3: System labels can only be set by Kestra itself, offending "
                              "label: system.username=bob")


def test_retry_shapes_are_checked_per_type():
    assert problems_of(HEAD + textwrap.dedent("""\
        tasks:
          - id: a
            type: io.kestra.plugin.core.debug.Return
            retry:
              type: random
              maxInterval: PT5S
              maxAttempt: 0
              interval: PT1S
          - id: b
            type: io.kestra.plugin.core.debug.Return
            retry:
              type: sometimes
        retry:
          type: exponential
          interval: forever
          maxInterval: PT1M
        """)) == [
        "7:7: Missing required property `minInterval` of random retry of task `a` "
        "(io.kestra.plugin.core.debug.Return)",
        "9:19: `maxAttempt` of retry of task `a` (io.kestra.plugin.core.debug.Return) must be "
        "an integer >= 1",
        "10:7: Unknown property `interval` of random retry of task `a` "
        "(io.kestra.plugin.core.debug.Return)",
        "14:13: Invalid retry type `sometimes` of task `b` (io.kestra.plugin.core.debug.Return)"
        ": expected constant, exponential or random",
        "17:13: Invalid `interval` of retry of flow: Invalid duration `forever`: expected an "
        "ISO-8601 duration such as `PT30S`, `PT5M`, `PT1H30M` or `P1D`",
    ]


def test_concurrency_shape_is_checked():
    assert problems_of(HEAD + textwrap.dedent("""\
        concurrency:
          limit: 0
          behavior: WAIT
        tasks:
          - {id: a, type: io.kestra.plugin.core.debug.Return}
        """)) == [
        "4:10: `limit` of concurrency must be an integer greater than 0",
        "5:13: Invalid concurrency behavior `WAIT`: expected one of QUEUE, CANCEL, FAIL",
    ]


def test_outputs_need_id_type_and_value():
    assert problems_of(HEAD + textwrap.dedent("""\
        tasks:
          - {id: a, type: io.kestra.plugin.core.debug.Return}
        outputs:
          - id: o
            type: TEXT
        """)) == [
        "6:5: Missing required property `value` of output `o`",
        "7:11: Invalid type `TEXT` of output `o`: expected one of STRING, ENUM, SELECT, "
        "MULTISELECT, INT, FLOAT, BOOLEAN, DATETIME, DATE, TIME, DURATION, FILE, JSON, YAML, "
        "URI, SECRET, ARRAY, EMAIL",
    ]


def test_input_declaration_problems_carry_their_position():
    assert problems_of(HEAD + textwrap.dedent("""\
        inputs:
          - id: n
            type: INT
            min: ten
          - id: arr
            type: ARRAY
        tasks:
          - id: p
            type: io.kestra.plugin.core.flow.Pause
            onResume:
              - id: ok
                type: BOOL
        """)) == [
        "6:10: Invalid `min` of input `n`: expected an integer, got `ten`",
        "7:5: Input `arr` of type `ARRAY` requires `itemType`",
        "14:15: Invalid type `BOOL` of input `ok`: expected one of STRING, ENUM, SELECT, "
        "MULTISELECT, INT, FLOAT, BOOLEAN, DATETIME, DATE, TIME, DURATION, FILE, JSON, YAML, "
        "URI, SECRET, ARRAY, EMAIL",
    ]


def test_sla_entries_are_validated():
    assert problems_of(HEAD + textwrap.dedent("""\
        tasks:
          - {id: a, type: io.kestra.plugin.core.debug.Return}
        sla:
          - id: tooLong
            type: MAX_DURATION
            behavior: FAIL
            duration: P10000D
          - id: noAssert
            type: EXECUTION_ASSERTION
            behavior: NONE
            duration: PT1H
          - id: noBehavior
            type: MAX_DURATION
            duration: PT1H
            labels:
              system.x: y
        """)) == [
        "9:15: `duration` of SLA `tooLong` must be at most 365 days",
        "10:5: Missing required property `assert` of SLA `noAssert`",
        "13:5: Unknown property `duration` of SLA `noAssert` (EXECUTION_ASSERTION)",
        "14:5: Missing required property `behavior` of SLA `noBehavior`",
        "18:7: System labels can only be set by Kestra itself, offending label: system.x=y",
    ]


def test_triggers_are_validated():
    assert problems_of(HEAD + textwrap.dedent("""\
        tasks:
          - {id: a, type: io.kestra.plugin.core.debug.Return}
        triggers:
          - id: cron
            type: io.kestra.plugin.core.trigger.Schedule
            cron: "* * * *"
          - id: secs
            type: io.kestra.plugin.core.trigger.Schedule
            cron: "*/5 * * * * *"
            withSeconds: true
            timezone: Mars/Olympus
          - id: hook
            type: io.kestra.plugin.core.trigger.Webhook
          - id: flow
            type: io.kestra.plugin.core.trigger.Flow
            states: [DONE]
            preconditions:
              id: p
              where:
                - id: w
                  filters:
                    - {field: NAMESPACE, type: IN, value: x}
              timeWindow:
                type: DAILY_TIME_DEADLINE
                window: PT1H
          - id: odd
            type: io.kestra.plugin.core.trigger.Shedule
        """)) == [
        "8:11: Invalid cron expression `* * * *`: expected 5 fields (use `withSeconds: true` "
        "for 6 fields), got 4",
        "13:15: Invalid timezone `Mars/Olympus` of trigger `secs`",
        "14:5: Missing required property `key` of trigger `hook`",
        "18:14: Invalid state `DONE` in `states`: expected one of CREATED, RUNNING, PAUSED, "
        "RESTARTED, KILLING, SUCCESS, WARNING, FAILED, KILLED, CANCELLED, QUEUED, RETRYING, "
        "RETRIED, SKIPPED",
        "24:15: Filter of type `IN` requires `values`",
        "24:44: Filter of type `IN` cannot have a `value`, use `values`",
        "26:9: Time window of type `DAILY_TIME_DEADLINE` must have a deadline.",
        "27:9: Time window of type `DAILY_TIME_DEADLINE` cannot have a window.",
        "29:11: Unknown trigger type `io.kestra.plugin.core.trigger.Shedule`, did you mean "
        "`io.kestra.plugin.core.trigger.Schedule`?",
    ]


def test_all_problems_are_returned_sorted_by_line():
    with pytest.raises(InvalidFlow) as info:
        parse_flow(textwrap.dedent("""\
            id: x y
            namespace: ok
            tasks:
              - id: a
                type: io.kestra.plugin.core.log.Log
              - id: a
                type: nope
            """))
    problems = info.value.problems
    assert all(isinstance(p, Problem) for p in problems)
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    assert len(problems) == 4
    assert problems[1].path == "tasks[0]"
    assert str(info.value) == "\n".join(f"{p.line}:{p.column}: {p.message}" for p in problems)


def test_a_40_task_flow_parses_in_under_10_ms():
    lines = [HEAD, "tasks:\n"]
    for i in range(40):
        lines.append(f"  - id: t{i}\n    type: io.kestra.plugin.core.log.Log\n"
                     f"    message: \"{{{{ inputs.x }}}} {i}\"\n    level: INFO\n")
    source = "".join(lines)
    parse_flow(source)
    best = min(_timed(parse_flow, source) for _ in range(20))
    assert best < 0.010, best


def _timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


# -- durations and catalog --------------------------------------------------------------

@pytest.mark.parametrize("text,seconds", [("PT1S", 1), ("PT0.5S", 0.5), ("P1D", 86400),
                                          ("PT5M6S", 306), ("P1DT2H", 93600),
                                          ("PT0.250S", 0.25)])
def test_iso_durations_parse_to_timedeltas(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("bad", ["5s", "PT", "P", "PT1.5M", "P36600D", "", 5])
def test_invalid_or_absurd_durations_are_rejected_with_a_clear_message(bad):
    with pytest.raises(ValueError, match="Invalid duration"):
        parse_duration(bad)


def test_durations_print_like_java():
    assert format_duration(parse_duration("PT5M6S")) == "PT5M6S"
    assert format_duration(parse_duration("P1D")) == "PT24H"
    assert format_duration(parse_duration("PT0.5S")) == "PT0.5S"
    assert format_duration(parse_duration("PT0S")) == "PT0S"


def test_the_catalog_resolves_legacy_aliases_to_canonical_types():
    pairs = {
        "io.kestra.core.tasks.log.Log": "io.kestra.plugin.core.log.Log",
        "io.kestra.core.tasks.debugs.Return": "io.kestra.plugin.core.debug.Return",
        "io.kestra.core.tasks.debugs.Echo": "io.kestra.plugin.core.debug.Echo",
        "io.kestra.core.tasks.flows.EachSequential": "io.kestra.plugin.core.flow.EachSequential",
        "io.kestra.core.tasks.flows.Flow": "io.kestra.plugin.core.flow.Subflow",
        "io.kestra.core.tasks.flows.Subflow": "io.kestra.plugin.core.flow.Subflow",
        "io.kestra.core.tasks.executions.Fail": "io.kestra.plugin.core.execution.Fail",
        "io.kestra.core.tasks.outputs.OutputValues": "io.kestra.plugin.core.output.OutputValues",
    }
    for alias, canonical in pairs.items():
        assert catalog.lookup(alias).type == canonical
    assert catalog.lookup("io.kestra.plugin.core.execution.Labels").kind == "updating"
    assert catalog.lookup("io.kestra.plugin.core.flow.Subflow").kind == "executable"
    assert catalog.lookup("io.kestra.plugin.core.kv.Set").impl == "kestra_lite.tasks.core.kv:KvSet"
    assert catalog.lookup("io.kestra.core.tasks.test.Sleep").impl == \
        "kestra_lite.tasks.core.sleep:TestSleep"


def test_plugins_can_register_new_task_types():
    catalog.register(catalog.TaskType("io.example.Hello", "runnable", ("io.example.Hi",),
                                      {"name": catalog.Prop("string", required=True)},
                                      "example:Hello"))
    flow = parse_flow(HEAD + "tasks:\n  - {id: a, type: io.example.Hi, name: x}\n")
    assert flow.tasks[0].type == "io.example.Hello"
