"""``python -m ducttape``: the ``ducttape`` command."""

from ducttape.program import main

main()
