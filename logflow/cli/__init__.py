"""The command line: thin click commands over the library (commands)."""

from logflow.cli.commands import cli, main

__all__ = ["cli", "main"]
