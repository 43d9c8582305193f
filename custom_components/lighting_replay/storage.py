"""Files of Lighting Replay: where archives and models live, reading models.

Every function here blocks: run it in an executor.
"""

from __future__ import annotations

from pathlib import Path

from .engine.model import HomeModel, NotAModel

#: A model file larger than this is not read (a trainer's model of a large
#: home is well under 1 MB).
MAX_MODEL_BYTES = 5 * 1024 * 1024


def read_model_file(path: Path, max_bytes: int = MAX_MODEL_BYTES) -> HomeModel:
    """Read a model file of at most `max_bytes` (blocking).

    A file that is missing, not a regular file, unreadable, too large or not
    a model raises `NotAModel` with one message, so an error tells nothing
    about a file that is not a model; a model with bad contents raises
    `ModelError` saying what is wrong.
    """
    try:
        if not path.is_file() or path.stat().st_size > max_bytes:
            raise NotAModel("not a readable model file")
        with path.open("rb") as file:
            text = file.read(max_bytes + 1)
    except OSError as err:
        raise NotAModel("not a readable model file") from err
    if len(text) > max_bytes:
        raise NotAModel("not a readable model file")
    return HomeModel.loads(text)
