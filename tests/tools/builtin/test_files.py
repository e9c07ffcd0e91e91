"""tools.builtin.files: read_file and list_dir, confined to their root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools import FunctionTool, ToolSet
from tools.builtin.files import FileTools
from tools.errors import PathOutsideRootError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "todo.txt").write_text("buy otters\n", encoding="utf-8")
    (root / "readme.md").write_text("# hi", encoding="utf-8")
    (root / "blob.bin").write_bytes(b"\x00\x01\x02")
    (tmp_path / "secret.txt").write_text("top secret", encoding="utf-8")
    os.symlink(tmp_path / "secret.txt", root / "escape.txt")
    os.symlink(tmp_path, root / "up")
    os.symlink(root / "notes" / "todo.txt", root / "inside.txt")
    return root


def tools_for(root: Path, **options: int) -> ToolSet:
    return ToolSet(FileTools(root, **options).to_tool_list())


def test_tools_and_schemas() -> None:
    read_file, list_dir = FileTools(".").to_tool_list()
    assert (read_file.name, list_dir.name) == ("read_file", "list_dir")
    assert read_file.metadata.get_parameters_dict()["required"] == ["path"]
    assert list_dir.metadata.get_parameters_dict()["properties"]["path"]["default"] == "."


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError, match="is not a directory"):
        FileTools(tmp_path / "missing")


async def test_read_file_and_list_dir_inside_the_root(root: Path) -> None:
    toolset = tools_for(root)
    assert (await toolset.acall("read_file", {"path": "notes/todo.txt"})).content == (
        "buy otters\n"
    )
    assert (await toolset.acall("read_file", {"path": "./notes/../readme.md"})).is_error
    listing = await toolset.acall("list_dir", {})
    assert listing.raw_output == [
        "blob.bin",
        "escape.txt",
        "inside.txt",
        "notes/",
        "readme.md",
        "up/",
    ]
    assert (await toolset.acall("list_dir", {"path": "notes"})).raw_output == ["todo.txt"]


async def test_symlink_that_stays_inside_is_followed(root: Path) -> None:
    output = await tools_for(root).acall("read_file", {"path": "inside.txt"})
    assert output.content == "buy otters\n"


@pytest.mark.parametrize(
    ("tool", "path", "reason"),
    [
        ("read_file", "../secret.txt", "contains '..'"),
        ("read_file", "notes/../../secret.txt", "contains '..'"),
        ("list_dir", "..", "contains '..'"),
        ("read_file", "/etc/passwd", "is an absolute path"),
        ("list_dir", "/", "is an absolute path"),
        ("read_file", "escape.txt", "leads outside the root directory (through a symlink)"),
        ("read_file", "up/secret.txt", "leads outside the root directory"),
        ("list_dir", "up", "leads outside the root directory"),
        ("read_file", "notes\\..\\..\\secret.txt", "contains '..'"),
        ("list_dir", "..\\", "contains '..'"),
        ("read_file", "C:\\Windows\\win.ini", "is an absolute path"),
        ("read_file", "C:secret.txt", "is an absolute path"),
        ("list_dir", "\\\\server\\share", "is an absolute path"),
        ("read_file", "notes/todo.txt\x00.md", "contains a NUL byte"),
    ],
)
async def test_paths_leaving_the_root_are_refused(
    root: Path, tool: str, path: str, reason: str
) -> None:
    output = await tools_for(root).acall(tool, {"path": path})
    assert output.is_error
    assert output.content.startswith(f"Error: tool '{tool}' raised PathOutsideRootError: ")
    assert f"{path!r} {reason}" in output.content
    assert isinstance(output.exception, PathOutsideRootError)
    assert "top secret" not in output.content


async def test_missing_and_wrong_kind_of_paths(root: Path) -> None:
    toolset = tools_for(root)
    missing = await toolset.acall("read_file", {"path": "nope.txt"})
    assert "FileNotFoundError: there is no file 'nope.txt' under the root" in missing.content
    not_dir = await toolset.acall("list_dir", {"path": "readme.md"})
    assert "there is no directory 'readme.md' under the root" in not_dir.content
    binary = await toolset.acall("read_file", {"path": "blob.bin"})
    assert "'blob.bin' is a binary file" in binary.content


async def test_size_and_entry_caps_say_they_cut(root: Path) -> None:
    toolset = tools_for(root, max_bytes=4, max_entries=2)
    read = await toolset.acall("read_file", {"path": "notes/todo.txt"})
    assert read.content == "buy \n[truncated: showed 4 of 11 bytes]"
    listing = await toolset.acall("list_dir", {})
    assert listing.raw_output == ["blob.bin", "escape.txt", "[4 more entries not shown]"]


def test_tools_are_function_tools(root: Path) -> None:
    assert all(isinstance(t, FunctionTool) for t in FileTools(root).to_tool_list())
