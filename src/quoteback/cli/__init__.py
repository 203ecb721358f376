"""The `quoteback` command: `commands.py` defines it, `checks.py` refuses bad input before anything
heavy loads, `running.py` builds and opens the index for a command (progress, one-line errors),
`info.py` reports on an index without the model."""

from .commands import app, main

__all__ = ["app", "main"]
