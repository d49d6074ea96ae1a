"""Reading a JSON file the user named: one clear message for a file that is missing or not JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cds.errors import CdsError, InputError


def read_json_file(path: Path, error: type[CdsError] = InputError) -> Any:
    """The parsed content of ``path``.

    :raise error: naming the file, when it cannot be read or is not JSON (an input file gives
        :class:`InputError`; a configuration file passes :class:`~cds.errors.ConfigError`).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"{path} is not JSON: {exc}") from exc
