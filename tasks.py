"""ducttape's front door in this repository: ``invoke --list`` shows the tasks (the ``ducttape``
command runs the same ones)."""

from ducttape.program import ns  # noqa: F401 - invoke looks for `ns`
