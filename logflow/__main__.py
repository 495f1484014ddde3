"""``python -m logflow``: the same as the ``logflow`` command."""

from logflow.cli import main

main()
