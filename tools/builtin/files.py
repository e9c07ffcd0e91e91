"""`read_file` and `list_dir`, confined to one root directory.

A path from the LLM is refused when it is absolute, contains `..`, or resolves (following
symlinks) to somewhere outside the root; the refusal names the path and the reason.
Windows forms (`C:\\x`, `C:x`, `\\\\server\\share`, `..\\x`) are refused on every platform, so
a path means the same wherever the tools run, and so is a NUL byte.
The check runs on every call against the file system as it is then; a process that can
swap files under the root while a call runs is outside what this guards against.
"""

from __future__ import annotations

from pathlib import Path, PurePath, PureWindowsPath

from tools.errors import PathOutsideRootError
from tools.spec import ToolSpec


class FileTools(ToolSpec):
    """Read-only file access under `root`: `FileTools("docs").to_tool_list()`."""

    spec_functions = ("read_file", "list_dir")

    def __init__(self, root: str | Path, max_bytes: int = 1_000_000, max_entries: int = 1_000):
        resolved = Path(root).resolve()
        if not resolved.is_dir():
            raise NotADirectoryError(f"file tools root {str(root)!r} is not a directory")
        self.root = resolved
        """The directory every path is relative to and confined to (resolved)."""
        self.max_bytes = max_bytes
        """`read_file` returns at most this many bytes of a file, and says it cut."""
        self.max_entries = max_entries
        """`list_dir` lists at most this many entries, and says it cut."""

    def read_file(self, path: str) -> str:
        """Read a text file.

        Args:
            path: The file's path relative to the root directory, e.g. "notes/todo.txt".
        """
        target = self._resolve(path)
        if not target.is_file():
            raise FileNotFoundError(f"there is no file {path!r} under the root")
        with target.open("rb") as file:
            data = file.read(self.max_bytes + 1)
        if b"\x00" in data:
            raise ValueError(f"{path!r} is a binary file, not text")
        text = data[: self.max_bytes].decode("utf-8", errors="replace")
        if len(data) > self.max_bytes:
            size = target.stat().st_size
            text += f"\n[truncated: showed {self.max_bytes} of {size} bytes]"
        return text

    def list_dir(self, path: str = ".") -> list[str]:
        """List a directory's entries; directories end with "/".

        Args:
            path: The directory's path relative to the root directory; "." is the root.
        """
        target = self._resolve(path)
        if not target.is_dir():
            raise NotADirectoryError(f"there is no directory {path!r} under the root")
        entries = sorted(entry.name + ("/" if entry.is_dir() else "") for entry in target.iterdir())
        if len(entries) > self.max_entries:
            hidden = len(entries) - self.max_entries
            entries = [*entries[: self.max_entries], f"[{hidden} more entries not shown]"]
        return entries

    def _resolve(self, path: str) -> Path:
        if "\x00" in path:
            raise PathOutsideRootError(f"{path!r} contains a NUL byte; no file name can")
        pure = PurePath(path)
        windows = PureWindowsPath(path)
        if pure.is_absolute() or path.startswith(("/", "\\")) or windows.drive:
            raise PathOutsideRootError(
                f"{path!r} is an absolute path; give a path relative to the root directory"
            )
        if ".." in pure.parts or ".." in windows.parts:
            raise PathOutsideRootError(f"{path!r} contains '..'; paths may not leave the root")
        resolved = (self.root / pure).resolve()
        if not resolved.is_relative_to(self.root):
            raise PathOutsideRootError(
                f"{path!r} leads outside the root directory (through a symlink)"
            )
        return resolved
