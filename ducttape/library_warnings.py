"""Warnings raised inside the libraries ducttape uses go to the debug log, not to the console.

A deprecation notice from paramiko or cryptography says nothing a user of ``invoke test`` can act
on, and two lines of it before every one-line error hide the error. Such warnings are logged at
DEBUG on the logger ``ducttape.library_warnings`` (so they land in the session's debug log when
there is one) instead of being printed. Warnings raised by ducttape itself, by the user's
scenarios and by any code outside the interpreter's library folders are printed as Python prints
them. Run with ``-W`` or ``PYTHONWARNINGS`` and nothing is rerouted: warnings asked for are shown.
"""

from __future__ import annotations

import logging
import os
import site
import sys
import sysconfig
import warnings

LOGGER = logging.getLogger("ducttape.library_warnings")
_OURS = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _library_folders() -> tuple[str, ...]:
    paths = {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths.update(site.getsitepackages())
    paths.add(site.getusersitepackages())
    return tuple(os.path.abspath(p) + os.sep for p in paths if p)


_LIBRARIES = _library_folders()


def is_library_file(filename: str) -> bool:
    """Whether ``filename`` (where a warning was raised) belongs to an installed library or the
    standard library rather than to ducttape or the user's own code."""
    path = os.path.abspath(filename)
    return not path.startswith(_OURS) and path.startswith(_LIBRARIES)


def route_library_warnings() -> None:
    """From now on, log warnings raised in library files (see `is_library_file`) instead of
    printing them; any other warning is shown as before. Does nothing when the user asked for
    warnings with ``-W`` or ``PYTHONWARNINGS``."""
    if sys.warnoptions or getattr(warnings.showwarning, "_ducttape", False):
        return
    show = warnings.showwarning

    def showwarning(message, category, filename, lineno, file=None, line=None):
        if is_library_file(filename):
            LOGGER.debug("%s:%s: %s: %s", filename, lineno, category.__name__, message)
        else:
            show(message, category, filename, lineno, file, line)

    showwarning._ducttape = True  # type: ignore[attr-defined]
    warnings.showwarning = showwarning
