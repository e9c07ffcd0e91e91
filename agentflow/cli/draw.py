"""`agentflow draw`: a workflow's step graph as an offline HTML page or Mermaid text."""

from __future__ import annotations

import argparse
import sys

from agentflow.cli.errors import EXIT_OK, EXIT_WORKFLOW_FAILED, CommandLineError
from agentflow.cli.loading import load_workflow


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
