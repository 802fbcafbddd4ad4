"""Secrets kept out of logs, reports and the console.

A value is secret when a test marks it (``secret.add(value)``), when it is the value of a
session parameter or global whose key is marked (``invoke test --secret KEY``) or is named like
a secret (SECRET_KEY_RE: ``*password*``, ``*secret*``, ``*token*``, ...), and the credentials of
any URL are. ``redact`` replaces every known secret value by MASK and strips the credentials of
URLs; the log files, the results the runner keeps and the lines it prints go through it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import threading

MASK = "***"
SECRET_KEY_RE = re.compile(
    r"password|passwd|passphrase|(^|[_.-])pass($|[_.-])|secret|token|credential|api[_.-]?key|"
    r"private[_.-]?key|jaas",
    re.IGNORECASE,
)
"""Keys whose values are secret without being marked."""
MIN_LENGTH = 4
"""Shorter values are masked where they are a secret key's value, but not searched for in
free text (replacing every "1" of a log would hide everything and protect nothing)."""
REDACT_FILE_LIMIT = 64 << 20
"""Larger collected files are not searched for secrets (documented in docs/security.md)."""
_URL_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)([^/\s@'\"<>]*)@")

_lock = threading.Lock()
_values: set[str] = set()
_marked: set[str] = set()
_pattern: re.Pattern | None = None


def is_secret_key(key: object) -> bool:
    """Whether the value of ``key`` is secret: it was marked (``add_params``) or is named like
    a secret."""
    return str(key) in _marked or bool(SECRET_KEY_RE.search(str(key)))


def add(value: object) -> None:
    """Mark ``value`` (a string, or the strings inside a list or dict) secret for this process
    and the test processes it forks from now on."""
    global _pattern
    found = [v for v in _strings(value) if len(v) >= MIN_LENGTH]
    if not found:
        return
    with _lock:
        for v in found:
            # as written, shell-quoted (a command line), and JSON-escaped (a report)
            _values.update({v, shlex.quote(v), json.dumps(v)[1:-1]})
        _pattern = re.compile("|".join(re.escape(v) for v in sorted(_values, key=len, reverse=True)))


def add_params(params: dict, keys: tuple[str, ...] | list[str] = ()) -> None:
    """Mark ``keys`` secret (for ``is_secret_key``, here and in processes forked later), then
    the values of the secret keys of ``params`` (at any depth)."""
    _marked.update(keys)
    for key, value in params.items():
        if is_secret_key(key):
            add(value)
        elif isinstance(value, dict):
            add_params(value)


def masked(params: dict) -> dict:
    """``params`` with the values of secret keys replaced by MASK (at any depth) and every other
    string redacted, for reports."""
    return {
        key: MASK if is_secret_key(key) else masked(value) if isinstance(value, dict) else redact_data(value)
        for key, value in params.items()
    }


def strip_url_credentials(text: str) -> str:
    """``text`` with the user info of every URL in it removed (``https://user:token@host/x`` ->
    ``https://host/x``); a user name without a password stays for ssh-like schemes
    (``ssh://git@host/x``), which need it and where it is not a credential."""

    def strip(m: re.Match) -> str:
        scheme, info = m.group(1), m.group(2)
        if scheme.lower().startswith("ssh") or scheme.lower().startswith("git+ssh"):
            user = info.split(":", 1)[0]
            return f"{scheme}{user}@" if ":" not in info else f"{scheme}{user}:{MASK}@"
        return scheme

    return _URL_USERINFO.sub(strip, text)


def redact(text: str) -> str:
    """``text`` with every secret value replaced by MASK and URL credentials stripped."""
    if not text:
        return text
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    if "@" in text:
        text = strip_url_credentials(text)
    return text


def redact_files(path: str) -> None:
    """Redact, in place, the text files at ``path`` (a file, or every file below a folder) that
    hold a secret value: logs copied from nodes. Nothing is read while no value is secret;
    files over REDACT_FILE_LIMIT bytes and files that are not UTF-8 text are left as they are."""
    if _pattern is None or not os.path.exists(path):
        return
    files = [path] if os.path.isfile(path) else [os.path.join(d, f) for d, _, names in os.walk(path) for f in names]
    for name in files:
        try:
            if os.path.islink(name) or os.path.getsize(name) > REDACT_FILE_LIMIT:
                continue
            with open(name, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError):
            continue
        clean = redact(text)
        if clean != text:
            tmp = f"{name}.redacting"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(clean)
            os.replace(tmp, name)


def redact_data(value: object) -> object:
    """``value`` (strings, lists, dicts of them) with ``redact`` applied to every string."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(v) for v in value]
    return value


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [str(value)]
    return []
