"""The engine's internals: the per-class step table, its validation, and the run that
routes events to step workers. Nothing here is public API."""
