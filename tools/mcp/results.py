"""How an MCP tool result becomes a `ToolOutput`: the text the model reads, the data the
program keeps.

- text blocks are the content, joined by blank lines; a result with structured content and
  no text is its JSON;
- images, audio and resources the model cannot read as text are named in brackets (their
  MIME type, their URI), so that it knows something came back;
- `raw_output` is the structured content when there is some, else the `CallToolResult`;
- a result with `is_error` is an error output ("Error: ..." as the model reads every tool
  error), which the agent hands to the model like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tools.output import ToolOutput, render_content

if TYPE_CHECKING:
    from mcp_types import CallToolResult, ContentBlock


def to_tool_output(name: str, arguments: dict[str, Any], result: CallToolResult) -> ToolOutput:
    """The `ToolOutput` of tool `name` for an MCP `CallToolResult`."""
    texts = [_block_text(block) for block in result.content]
    if not texts and result.structured_content is not None:
        texts = [render_content(result.structured_content)]
    content = "\n\n".join(texts)
    if result.is_error:
        content = f"Error: {content or f'tool {name!r} failed and said nothing'}"
    return ToolOutput(
        tool_name=name,
        content=content,
        raw_input=arguments,
        raw_output=result if result.structured_content is None else result.structured_content,
        is_error=result.is_error,
    )


def _block_text(block: ContentBlock) -> str:
    kind = block.type
    if kind == "text":
        return str(getattr(block, "text", ""))
    if kind in ("image", "audio"):
        return f"[{kind}: {getattr(block, 'mime_type', 'unknown type')}]"
    if kind == "resource_link":
        return f"[resource: {getattr(block, 'uri', '')}]"
    if kind == "resource":
        resource = getattr(block, "resource", None)
        text = getattr(resource, "text", None)
        if isinstance(text, str):
            return text
        return f"[resource: {getattr(resource, 'uri', '')}]"
    return f"[{kind}]"
