"""The `quoteback` command: `commands.py` defines it, `checks.py` refuses bad input before anything
heavy loads, `info.py` reports on an index without the model."""

from .commands import app, main

__all__ = ["app", "main"]
