"""``python -m fika`` is the same as the ``fika`` command."""

from fika.cli import main

main()
