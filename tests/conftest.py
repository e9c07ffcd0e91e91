"""Fixtures shared by every test folder."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest


@pytest.fixture
def uninstalled(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """`uninstalled("httpx", ...)` makes those packages unimportable until the test ends, as
    in an install without their extra: a `None` entry in `sys.modules` stops the import,
    and the package's loaded submodules are taken out so that none is found there."""

    def uninstall(*packages: str) -> None:
        for package in packages:
            for name in [name for name in sys.modules if name.startswith(f"{package}.")]:
                monkeypatch.delitem(sys.modules, name)
            monkeypatch.setitem(sys.modules, package, None)

    return uninstall
