"""`agentflow draw`: a workflow's step graph as an offline HTML page or Mermaid text."""

from __future__ import annotations

import argparse
import sys

from agentflow.cli.errors import EXIT_OK, EXIT_WORKFLOW_FAILED, CommandLineError
from agentflow.cli.loading import load_workflow
from agentflow.cli.options import Subcommands, add_workflow_command, positive_int


def add_draw_command(commands: Subcommands) -> None:
    """Add `draw` and its options to the command's subcommands; parsed, it runs
    `draw_command`."""
    draw = add_workflow_command(
        commands,
        "draw",
        help="draw every flow a workflow can take",
        description="Write a self-contained HTML drawing of a workflow's step graph, or "
        "print it as Mermaid text.",
    )
    draw.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="file to write (default: workflow_all_flows.html; with --mermaid: stdout)",
    )
    draw.add_argument("--mermaid", action="store_true", help="Mermaid flowchart text instead")
    draw.add_argument(
        "--max-label-length", type=positive_int, metavar="N", help="cut longer labels"
    )
    draw.set_defaults(execute=draw_command)


def draw_command(args: argparse.Namespace) -> int:
    """Draw the workflow `args.target` names; return the exit code."""
    from agentflow.drawing import draw_all_possible_flows, draw_all_possible_flows_mermaid
    from agentflow.errors import WorkflowValidationError

    target = load_workflow(args.target)
    try:
        if args.mermaid:
            text = draw_all_possible_flows_mermaid(target, args.output, args.max_label_length)
            if args.output is None:
                sys.stdout.write(text)
            else:
                print(f"wrote {args.output}")
            return EXIT_OK
        path = draw_all_possible_flows(
            target,
            args.output or "workflow_all_flows.html",
            max_label_length=args.max_label_length,
        )
    except WorkflowValidationError as error:
        raise CommandLineError(
            f"cannot draw {args.target}: {error}", EXIT_WORKFLOW_FAILED
        ) from None
    except OSError as error:
        raise CommandLineError(f"cannot write the drawing: {error}", EXIT_WORKFLOW_FAILED) from None
    print(f"wrote {path}")
    return EXIT_OK
