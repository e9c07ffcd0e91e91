"""`python -m agentflow`: the `agentflow` command (see `agentflow.cli`)."""

from agentflow.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
