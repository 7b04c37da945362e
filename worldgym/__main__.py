"""``python -m worldgym``: the ``worldgym`` command line."""

from worldgym.cli.app import main

main()
