"""`agentflow.extras.extra_needed`: an optional dependency that cannot be imported becomes a
`MissingExtraError` naming the extra that installs it and the feature that needed it.

A missing package is simulated by a `None` entry in `sys.modules`, which makes Python refuse
the import as it does for a package that is not installed."""

from __future__ import annotations

import sys

import pytest

from agentflow.errors import MissingExtraError
from agentflow.extras import extra_needed


def test_a_missing_module_names_the_extra_and_the_install_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "json", None)
    with pytest.raises(MissingExtraError) as caught, extra_needed("web", "http_get"):
        import json  # noqa: F401

    error = caught.value
    assert isinstance(error, ImportError)  # `except ImportError` written before still works
    assert (error.extra, error.feature, error.name) == ("web", "http_get", "json")
    assert str(error) == (
        "http_get needs the 'web' extra, which is not installed (no module named 'json'): "
        "pip install -e '.[web]' in the agentflow checkout"
    )
    assert isinstance(error.__cause__, ModuleNotFoundError)


def test_a_missing_submodule_is_reported_by_the_module_that_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "email.mime", None)
    with pytest.raises(MissingExtraError) as caught, extra_needed("documents", "reading PDFs"):
        from email.mime import text  # noqa: F401

    assert caught.value.name == "email.mime"
    assert "(no module named 'email.mime')" in str(caught.value)


def test_an_installed_package_that_lacks_a_name_is_called_out_of_date() -> None:
    # An older release of the package: it imports, but not everything asked for is there.
    with pytest.raises(MissingExtraError) as caught, extra_needed("web", "http_get"):
        from json import no_such_function  # type: ignore[attr-defined]  # noqa: F401

    message = str(caught.value)
    assert "not installed" not in message  # it is installed
    assert message.startswith("http_get needs the 'web' extra, which is out of date here (")
    assert "no_such_function" in message
    assert message.endswith(": pip install -e '.[web]' in the agentflow checkout")


def test_an_installed_module_imports_as_usual() -> None:
    with extra_needed("web", "http_get"):
        import json

    assert json.loads("[1]") == [1]


def test_errors_other_than_a_failed_import_pass_through() -> None:
    with pytest.raises(ValueError, match="not an import"), extra_needed("web", "http_get"):
        raise ValueError("not an import")


def test_a_missing_extra_inside_another_keeps_the_inner_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "json", None)
    with (
        pytest.raises(MissingExtraError) as caught,
        extra_needed("documents", "ExtractionWorkflow"),
        extra_needed("web", "http_get"),
    ):
        import json  # noqa: F401

    assert (caught.value.extra, caught.value.feature) == ("web", "http_get")
