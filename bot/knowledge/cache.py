"""What the retrieval index keeps on disk (.cache/): arrays written atomically, and the signal that a part is missing."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


class NotCached(Exception):
    """Part of the retrieval index is not on disk yet (embeddings or a trained model): building it takes a while."""


def save_arrays(path: Path, what: str, **arrays: object) -> None:
    """np.savez into `path` atomically (another process may be reading it); a folder that cannot be
    written is logged and skipped: the arrays are computed again next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    except OSError as error:
        log.warning("could not write %s %s: %s", what, path, error)
        return
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
        os.replace(temporary, path)
    except OSError as error:
        log.warning("could not write %s %s: %s", what, path, error)
        Path(temporary).unlink(missing_ok=True)
