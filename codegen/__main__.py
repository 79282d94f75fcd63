"""``python -m chanspec.codegen`` runs the ``chanspec`` command line."""

from .cli import main

main()
