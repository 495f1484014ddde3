"""Writing a result file whole or not at all: an interrupted run leaves no half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from logflow.errors import writing


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; it becomes ``path`` when the block ends,
    and is removed if the block fails (an interrupt included). Failures to write name
    ``path``."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
        os.close(handle)
    partial = Path(name)
    # mkstemp makes a file only its owner reads; a result is read as any new file is.
    umask = os.umask(0)
    os.umask(umask)
    partial.chmod(0o666 & ~umask)
    try:
        with writing(path):
            yield partial
            os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
