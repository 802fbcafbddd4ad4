"""Reading the JSON files users hand us (cluster files, parameter files)."""

from __future__ import annotations

import json

from ducttape.errors import ConfigError


def read_json(path: str, what: str) -> object:
    """The JSON document in ``path``; ConfigError naming ``what`` (e.g. "cluster file") and the
    path when it is missing, unreadable or not JSON."""
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid JSON: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from None
