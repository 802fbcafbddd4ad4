"""`invoke build`: projects.yaml, git checkouts, Maven, the launcher and the build manifest.

Services use :mod:`ducttape.build.layout` (where outputs are, on this machine and on a node) and
:func:`ducttape.build.manifest.main_class` / :func:`ducttape.build.manifest.read` (what was built).
"""

import os

# Without a git executable GitPython refuses to be imported. The tasks, and builds of released
# projects, must work without git, so the check moves to the build that needs it (builder.run).
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
