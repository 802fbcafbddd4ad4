"""ducktape's public API (as of ducktape 0.12) on ducttape: the names ducktape tests import,
mapped onto ducttape's runner, services and remote accounts. Imported as ``ducktape`` through
``ducttape.compat.hook`` while the runner loads a ducktape-style module."""

__version__ = "0.12.0"
