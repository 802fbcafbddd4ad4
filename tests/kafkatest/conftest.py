"""The kafkatest tests' opt-in: the `kafkatest_breadth` suite runs only when `-m` names it."""

from __future__ import annotations

from kafkatest_support import BREADTH


def pytest_collection_modifyitems(config, items):
    """The breadth suite runs only when asked for by name (`-m kafkatest_breadth`)."""
    if BREADTH in (config.option.markexpr or ""):
        return
    chosen = [item for item in items if not item.get_closest_marker(BREADTH)]
    if len(chosen) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item.get_closest_marker(BREADTH)])
        items[:] = chosen
