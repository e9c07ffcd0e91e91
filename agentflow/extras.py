"""Optional dependencies: the one way agentflow, tools and agents import a package that
only an extra installs.

```python
with extra_needed("web", "http_get"):
    import httpx
```

The import is written as usual, so type checkers see it; when it fails, the block raises
`MissingExtraError` naming the extra to install and the feature that needed it, instead
of a bare `ModuleNotFoundError` that leaves the reader to guess. It lives in the lowest
layer so that all three packages can use it; importing it loads nothing but this module
and `agentflow.errors`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from agentflow.errors import MissingExtraError

__all__ = ["MissingExtraError", "extra_needed"]


@contextmanager
def extra_needed(extra: str, feature: str) -> Iterator[None]:
    """Turn an `ImportError` raised in the block into `MissingExtraError(extra, feature)`;
    one raised by an inner block keeps the extra and feature it names."""
    try:
        yield
    except MissingExtraError:
        raise
    except ImportError as error:
        raise MissingExtraError(extra, feature, error) from error
