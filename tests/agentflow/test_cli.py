"""The `agentflow` command, run for real in a subprocess: `draw` and `run`, human input
from stdin, the progress line on a terminal, and every error path's exit code and message.

The workflows live in tests/agentflow/cli_workflows.py; the commands run with this
directory as their working directory, so `cli_workflows:Greeter` imports from it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CONSOLE_SCRIPT = Path(sys.executable).parent / "agentflow"


def agentflow(
    *args: str, stdin: str = "", cwd: Path = HERE, command: tuple[str, ...] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the command to completion; stdin is a pipe holding `stdin` (empty: at EOF)."""
    return subprocess.run(
        [*(command or (sys.executable, "-m", "agentflow")), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=30,
        check=False,
    )


def error_line(completed: subprocess.CompletedProcess[str]) -> str:
    """The one line an error leaves on stderr."""
    lines = completed.stderr.splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("agentflow: error: "), lines[0]
    return lines[0].removeprefix("agentflow: error: ")


# --------------------------------------------------------------------------- run


def test_run_prints_each_streamed_event_then_the_result() -> None:
    completed = agentflow("run", "cli_workflows:Greeter", "--arg", "name=Ada", "--arg", "count=2")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        'Progress step=0 note="working on Ada"',
        'Progress step=1 note="working on Ada"',
        "result: hello Ada",  # the StopEvent is not repeated: the result says it
    ]
    assert completed.stderr == ""  # not a terminal: no status line


def test_streamed_text_runs_on_long_fields_are_cut_and_the_result_is_text() -> None:
    completed = agentflow("run", "cli_workflows:Chatty")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        'Note body="' + "x" * 99 + "…(+402 chars)",
        "Token: Otters hold hands.",  # one line of text, not one event line per token
        'Note body="done"',
        "result: Otters hold hands.",  # str() of the result, which defines its own
    ]


@pytest.mark.parametrize(
    ("target", "printed"),
    [
        ("cli_workflows:Reports", "result: # Otters\nThey hold hands.\n"),  # its __str__
        ("cli_workflows:Measures", "result: Measurement result=null metres=1.2\n"),
    ],
)
def test_a_stop_event_result_prints_as_its_text_else_as_its_fields(
    target: str, printed: str
) -> None:
    completed = agentflow("run", target)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == printed


def test_json_prints_every_event_in_full_as_one_json_object_a_line() -> None:
    completed = agentflow("run", "cli_workflows:Chatty", "--json")
    assert completed.returncode == 0, completed.stderr
    lines = [json.loads(line) for line in completed.stdout.splitlines()]
    assert lines == [
        {"event": "Note", "data": {"body": "x" * 500}},
        {"event": "Token", "data": {"delta": "Otters ", "text": "Otters "}},
        {"event": "Token", "data": {"delta": "hold ", "text": "Otters hold "}},
        {"event": "Token", "data": {"delta": "hands.", "text": "Otters hold hands."}},
        {"event": "Note", "data": {"body": "done"}},
        {"event": "StopEvent", "data": {"result": {"text": "Otters hold hands.", "tokens": 3}}},
        {"result": {"text": "Otters hold hands.", "tokens": 3}},
    ]


def test_quiet_prints_the_result_alone() -> None:
    completed = agentflow("run", "cli_workflows:Chatty", "--quiet")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "Otters hold hands.\n"
    assert completed.stderr == ""


def test_events_shows_only_the_named_event_classes() -> None:
    tokens = agentflow("run", "cli_workflows:Chatty", "--events", "Token")
    notes = agentflow("run", "cli_workflows:Chatty", "--events", "Note, StopEvent", "--json")
    assert tokens.returncode == notes.returncode == 0, tokens.stderr + notes.stderr
    assert tokens.stdout.splitlines() == ["Token: Otters hold hands.", "result: Otters hold hands."]
    shown = [json.loads(line).get("event") for line in notes.stdout.splitlines()]
    assert shown == ["Note", "Note", "StopEvent", None]  # None: the result line


def test_events_naming_a_class_never_streamed_says_which_were() -> None:
    completed = agentflow("run", "cli_workflows:Chatty", "--events", "Tokens,Note")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[-1] == "result: Otters hold hands."
    assert completed.stderr == (
        "agentflow: note: --events: no Tokens event was streamed "
        "(streamed: Note, StopEvent, Token)\n"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--quiet", "--json"], "argument --json: not allowed with argument --quiet"),
        (["--quiet", "--events", "Note"], "--events shows events, which --quiet leaves out"),
        (["--events", " , "], "argument --events: expected event class names, e.g. AgentStream"),
    ],
)
def test_output_options_that_contradict_each_other_are_usage_errors(
    options: list[str], message: str
) -> None:
    completed = agentflow("run", "cli_workflows:Chatty", *options)
    assert completed.returncode == 2
    assert message in completed.stderr
    assert completed.stdout == ""


def test_run_reads_arg_values_as_json_when_they_parse_else_as_strings() -> None:
    completed = agentflow(
        "run",
        "cli_workflows:EchoArgs",
        *("--arg", "n=3", "--arg", "ratio=0.5", "--arg", "flag=true", "--arg", "nothing=null"),
        *("--arg", 'items=[1,"a"]', "--arg", "name=Ada Lovelace", "--arg", 'quoted="7"'),
        *("--arg", "empty=", "--arg", "eq=a=b"),
        # Fields, though run() has parameters of these names:
        *("--arg", "ctx=1", "--arg", "start_event=2"),
    )
    assert completed.returncode == 0, completed.stderr
    result = completed.stdout.splitlines()[-1].removeprefix("result: ")
    assert json.loads(result) == {
        "n": 3,
        "ratio": 0.5,
        "flag": True,
        "nothing": None,
        "items": [1, "a"],
        "name": "Ada Lovelace",
        "quoted": "7",
        "empty": "",
        "eq": "a=b",
        "ctx": 1,
        "start_event": 2,
    }


def test_run_builds_the_workflows_typed_start_event() -> None:
    completed = agentflow("run", "cli_workflows:TypedSearch", "--arg", "query=otters")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[-1] == 'result: ["otters","otters","otters"]'


def test_start_fields_the_typed_start_event_rejects_exit_1() -> None:
    completed = agentflow("run", "cli_workflows:TypedSearch", "--arg", "limit=many")
    assert completed.returncode == 1
    message = error_line(completed)
    assert message.startswith("cannot start TypedSearch: ValidationError: 2 validation errors")
    assert "query Field required" in message
    assert "limit Input should be a valid integer" in message


def test_run_answers_each_input_request_with_a_line_from_stdin() -> None:
    completed = agentflow("run", "cli_workflows:AskName", stdin="Ada\nhappy\n")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        'InputRequiredEvent prefix="Name? "',
        'InputRequiredEvent prefix="Mood? "',
        "result: Ada is happy",
    ]
    assert completed.stderr.splitlines() == ["Name? ", "Mood? "]  # the prompts


def test_run_sends_the_human_response_subclass_the_workflow_accepts() -> None:
    completed = agentflow("run", "cli_workflows:AskColour", stdin="blue\r\n")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[-1] == "result: colour: blue"


def test_run_fails_when_stdin_ends_before_an_answer() -> None:
    completed = agentflow("run", "cli_workflows:AskName", stdin="Ada\n")
    assert completed.returncode == 1
    assert completed.stderr.startswith("Name? \nMood? ")
    last = completed.stderr.splitlines()[-1]
    assert last == (
        "agentflow: error: stdin closed while AskName waited for an answer to InputRequiredEvent"
    )


def test_a_failing_workflow_exits_1_naming_the_step_and_the_exception() -> None:
    completed = agentflow("run", "cli_workflows:Boom")
    assert completed.returncode == 1
    assert error_line(completed) == "Boom failed in step 'explode': ValueError: kaboom"
    assert completed.stdout == ""  # the failure event is the error line

    as_json = agentflow("run", "cli_workflows:Boom", "--json")
    assert as_json.returncode == 1
    line = json.loads(as_json.stdout)
    assert isinstance(line["data"].pop("elapsed_seconds"), float)
    assert line == {
        "event": "WorkflowFailedEvent",
        "data": {
            "result": None,
            "step_name": "explode",
            "exception": "ValueError: kaboom",
            "attempts": 1,
        },
    }


def test_timeout_option_overrides_the_workflows_timeout() -> None:
    completed = agentflow("run", "cli_workflows:WaitsForever", "--timeout", "0.2")
    assert completed.returncode == 1
    message = error_line(completed)
    assert message.startswith("WaitsForever: WorkflowTimeoutError: ")
    assert "timed out after 0.2s (steps still running: wait)" in message


def test_llm_timeout_sets_openai_timeout_for_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # The engine imports no LLM client: it hands the timeout to the ones the workflow
    # builds from the environment (agents' OpenAI.from_env()), over what was set before.
    monkeypatch.setenv("OPENAI_TIMEOUT", "60")
    completed = agentflow("run", "cli_workflows:ReadsLLMTimeout", "--llm-timeout", "240", "--quiet")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "240\n"


def test_without_llm_timeout_the_environment_is_left_as_it_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_TIMEOUT", "60")
    completed = agentflow("run", "cli_workflows:ReadsLLMTimeout", "--quiet")
    assert completed.stdout == "60\n"


def test_a_module_level_instance_can_be_run() -> None:
    completed = agentflow("run", "cli_workflows:greeter_instance", "--arg", "name=Bo")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[-1] == "result: hello Bo"


def test_a_file_path_works_as_the_module() -> None:
    completed = agentflow("run", f"{HERE / 'cli_workflows.py'}:Greeter", "--arg", "name=Cy")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[-1] == "result: hello Cy"


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="`pip install -e .` not run")
def test_console_script_imports_modules_from_the_current_directory(tmp_path: Path) -> None:
    # The console script's sys.path starts with its bin directory, not the current one.
    (tmp_path / "local_flow.py").write_text(
        "from agentflow import Workflow, step\n"
        "from agentflow.events import StartEvent, StopEvent\n\n"
        "class LocalFlow(Workflow):\n"
        "    @step\n"
        "    async def only(self, ev: StartEvent) -> StopEvent:\n"
        "        return StopEvent(result=ev.x * 2)\n"
    )
    completed = agentflow(
        "run", "local_flow:LocalFlow", "--arg", "x=21", cwd=tmp_path, command=(str(CONSOLE_SCRIPT),)
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[-1] == "result: 42"


def read_until_closed(descriptor: int, process: subprocess.Popen[bytes]) -> bytes:
    """Everything written to a pty until the command exits; a command still running after
    30 s is killed, so a hang fails the test instead of stalling the suite."""
    deadline = time.monotonic() + 30
    seen = b""
    while (remaining := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([descriptor], [], [], remaining)
        if not readable:
            break
        try:
            chunk = os.read(descriptor, 65536)
        except OSError:  # EIO: the command exited and closed the terminal
            return seen
        if not chunk:
            return seen
        seen += chunk
    process.kill()
    raise AssertionError(f"the command did not exit; it wrote {seen!r}")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")
def test_a_terminal_gets_a_status_line_on_stderr() -> None:
    import pty

    controller, terminal = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "agentflow", "run", "cli_workflows:AskName"],
        stdin=subprocess.PIPE,
        stdout=terminal,
        stderr=terminal,
        cwd=HERE,
    ) as process:
        os.close(terminal)
        assert process.stdin is not None
        process.stdin.write(b"Ada\nhappy\n")
        process.stdin.close()
        try:
            screen = read_until_closed(controller, process).decode()
        finally:
            os.close(controller)
    assert process.returncode == 0, screen
    assert "\r\x1b[K" in screen  # the status line is redrawn in place
    assert "AskName" in screen
    assert "| events: 1 | step runs: 1 (ask x1)" in screen
    assert 'InputRequiredEvent prefix="Mood? "\r\n' in screen
    assert "AskName ended after " in screen
    assert "(events: 3, step runs: 1)" in screen
    assert screen.endswith("result: Ada is happy\r\n")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")
def test_the_status_line_never_breaks_into_streamed_text() -> None:
    import pty

    controller, terminal = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "agentflow", "run", "cli_workflows:Chatty"],
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
        cwd=HERE,
    ) as process:
        os.close(terminal)
        try:
            screen = read_until_closed(controller, process).decode()
        finally:
            os.close(controller)
    assert process.returncode == 0, screen
    assert "\r\x1b[K" in screen  # the status line was drawn
    assert "\r\x1b[KToken: Otters hold hands.\r\n" in screen  # and left the text alone
    assert screen.endswith("result: Otters hold hands.\r\n")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is POSIX")
def test_ctrl_c_at_a_prompt_exits_130_without_a_traceback() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "agentflow", "run", "cli_workflows:AskName"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=HERE,
    ) as process:
        try:
            assert process.stderr is not None
            # Once the prompt is out, the command waits on stdin: interrupt it there.
            assert process.stderr.read(len(b"Name? ")) == b"Name? "
            process.send_signal(signal.SIGINT)
            # stdin stays open, as a terminal's does: closing it (`communicate`) would race
            # an end of input against the interrupt.
            process.wait(timeout=30)
            assert process.stdout is not None
            stdout, stderr = process.stdout.read(), process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 130
    assert stderr == b"\nagentflow: error: interrupted\n"
    assert stdout == b'InputRequiredEvent prefix="Name? "\n'


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "cli_workflows",
            "expected module:WorkflowClass (e.g. myapp.flows:ResearchFlow), got 'cli_workflows'",
        ),
        (
            "no_such_module:Flow",
            "no module named 'no_such_module' (looked in the current directory and sys.path)",
        ),
        (
            "cli_workflows:Missing",
            "'cli_workflows' has no attribute 'Missing' (workflows it defines: AskColour, "
            "AskName, Boom, Chatty, EchoArgs, Greeter, Measures, NeedsArguments, NoStartStep, "
            "ReadsLLMTimeout, Reports, TypedSearch, WaitsForever)",
        ),
        (
            "cli_workflows:NotAWorkflow",
            "'cli_workflows:NotAWorkflow' is the class NotAWorkflow, not a Workflow subclass "
            "or instance",
        ),
        (
            "cli_workflows:not_a_workflow",
            "'cli_workflows:not_a_workflow' is a function ('not_a_workflow'), not a Workflow "
            "subclass or instance",
        ),
        (
            "cli_workflows:Progress",
            "'cli_workflows:Progress' is the class Progress, not a Workflow subclass or instance",
        ),
        ("missing_file.py:Flow", "no such file: 'missing_file.py'"),
    ],
)
@pytest.mark.parametrize("command", ["run", "draw"])
def test_a_bad_target_exits_2_saying_what_is_wrong(command: str, target: str, message: str) -> None:
    completed = agentflow(command, target)
    assert completed.returncode == 2
    assert error_line(completed) == message
    assert completed.stdout == ""


def test_a_module_that_fails_to_import_is_reported(tmp_path: Path) -> None:
    (tmp_path / "broken_flows.py").write_text("raise RuntimeError('no config file')\n")
    completed = agentflow("run", "broken_flows:Flow", cwd=tmp_path)
    assert completed.returncode == 2
    assert error_line(completed) == (
        "importing 'broken_flows' failed: RuntimeError: no config file"
    )


def test_a_class_that_needs_constructor_arguments_is_reported() -> None:
    completed = agentflow("run", "cli_workflows:NeedsArguments")
    assert completed.returncode == 2
    assert error_line(completed).startswith(
        "cannot create NeedsArguments() with no arguments: TypeError: "
    )


def test_an_invalid_workflow_exits_1_with_the_validation_error() -> None:
    completed = agentflow("run", "cli_workflows:NoStartStep")
    assert completed.returncode == 1
    assert error_line(completed) == (
        "cannot start NoStartStep: WorkflowConfigurationError: workflow NoStartStep: no step "
        "accepts a StartEvent, so a run could never begin. At least one Event of type "
        "StartEvent must be received by any step."
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arg", "name"], "--arg expects KEY=VALUE, got 'name'"),
        (["--arg", "=3"], "--arg expects KEY=VALUE, got '=3'"),
        (["--arg", "a=1", "--arg", "a=2"], "--arg 'a' is given twice"),
    ],
)
def test_a_bad_arg_exits_2(args: list[str], message: str) -> None:
    completed = agentflow("run", "cli_workflows:Greeter", *args)
    assert completed.returncode == 2
    assert error_line(completed) == message


@pytest.mark.parametrize("timeout", ["0", "-1", "soon"])
def test_a_bad_timeout_is_a_usage_error(timeout: str) -> None:
    completed = agentflow("run", "cli_workflows:Greeter", "--timeout", timeout)
    assert completed.returncode == 2
    assert "argument --timeout: expected a" in completed.stderr


@pytest.mark.parametrize("seconds", ["0", "-1", "inf", "soon", "none"])
def test_a_bad_llm_timeout_is_a_usage_error(seconds: str) -> None:
    completed = agentflow("run", "cli_workflows:Greeter", "--llm-timeout", seconds)
    assert completed.returncode == 2
    assert (
        f"argument --llm-timeout: expected a positive number of seconds, got {seconds!r}"
        in completed.stderr
    )


@pytest.mark.parametrize(
    ("command", "listed"),
    [
        ([], ["COMMAND", "draw", "run", "--version"]),
        (["draw"], ["MODULE:CLASS", "-o FILE, --output FILE", "--mermaid", "--max-label-length N"]),
        (
            ["run"],
            [
                "MODULE:CLASS",
                "--arg KEY=VALUE",
                "--timeout SECONDS",
                "--llm-timeout SECONDS",
                "--quiet",
                "--json",
                "--events A,B",
                "--no-progress",
            ],
        ),
    ],
)
def test_help_lists_each_commands_options(command: list[str], listed: list[str]) -> None:
    completed = agentflow(*command, "--help")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith(" ".join(["usage: agentflow", *command]))
    options = completed.stdout.partition("\n\n")[2]  # past the usage line(s)
    for text in listed:
        assert text in options, text


def test_building_the_parser_loads_nothing_a_run_needs() -> None:
    """`agentflow --help` (and `draw`) must not pay for asyncio and the engine: each command
    module adds its options at startup, but imports what it runs with only when it runs."""
    script = (
        "import contextlib, io, sys\n"
        "from agentflow.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "print(sorted(name for name in ('asyncio', 'agentflow.cli.console', 'agentflow.events')"
        " if name in sys.modules))\n"
    )
    completed = agentflow(command=(sys.executable, "-c", script))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "[]\n"


def test_no_command_is_a_usage_error() -> None:
    completed = agentflow()
    assert completed.returncode == 2
    assert "usage: agentflow" in completed.stderr


# --------------------------------------------------------------------------- draw


def test_draw_writes_a_self_contained_html_page(tmp_path: Path) -> None:
    output = tmp_path / "flow.html"
    completed = agentflow("draw", "cli_workflows:AskColour", "-o", str(output))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == f"wrote {output}\n"
    page = output.read_text(encoding="utf-8")
    assert "<svg" in page
    assert "http" not in page
    for node_id in ("step_ask", "step_answer", "event_ColourQuestion", "external_step"):
        assert f'data-id="{node_id}"' in page


def test_draw_mermaid_prints_the_flowchart() -> None:
    completed = agentflow("draw", "cli_workflows:Greeter", "--mermaid")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0] == "flowchart TD"
    assert "    event_StartEvent --> step_greet" in lines
    assert "    step_greet --> event_StopEvent" in lines


def test_draw_shows_the_waits_in_a_step_s_body() -> None:
    completed = agentflow("draw", "cli_workflows:AskName", "--mermaid")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert '    event_HumanResponseEvent -->|"wait_for_event"| step_ask' in lines
    assert '    step_ask -->|"waiter_event"| event_InputRequiredEvent' in lines
    assert "    event_InputRequiredEvent --> external_step" in lines


def test_python_dash_m_and_the_version_flag() -> None:
    pyproject = tomllib.loads((HERE.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    completed = agentflow("--version")
    assert completed.returncode == 0
    # The version of this checkout's distribution, whatever its name on PyPI.
    assert completed.stdout == f"agentflow {version(pyproject['project']['name'])}\n"
