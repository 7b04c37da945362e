"""The ``worldgym`` command line: :mod:`~worldgym.cli.app` assembles one sub-app per
actor; :mod:`~worldgym.cli.output` is its one voice (errors, exit codes, ``--json``)."""
