"""Ready-made tools: `calculator`, file access confined to a root (`FileTools`) and
`http_get` (`WebTools`, needs the `web` extra when called).

```python
from tools.builtin import FileTools, WebTools, calculator

toolset = ToolSet([calculator, *FileTools("docs").to_tool_list(), *WebTools().to_tool_list()])
```
"""

from tools.builtin.calculator import calculate, calculator
from tools.builtin.files import FileTools
from tools.builtin.http import WebTools

__all__ = ["FileTools", "WebTools", "calculate", "calculator"]
