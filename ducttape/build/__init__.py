"""`invoke build`: projects.yaml, git checkouts, Maven, the launcher and the build manifest.

Services use :mod:`ducttape.build.layout` (where outputs are, on this machine and on a node) and
:func:`ducttape.build.manifest.main_class` / :func:`ducttape.build.manifest.read` (what was built).
"""
