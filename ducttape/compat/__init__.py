"""Compatibility with other test frameworks' APIs, so their tests run on ducttape unchanged.

``ducttape.compat.ducktape`` is ducktape's public API (the module names its tests import) mapped
onto ducttape's runner, services and remote accounts; ``ducttape.compat.hook`` makes those names
importable as ``ducktape.*`` while the runner loads a module that imports them.
"""
