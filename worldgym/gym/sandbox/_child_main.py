"""Launcher of the sandbox child: ``python -I -S -B _child_main.py`` (config on stdin).

Kept tiny because a script is compiled on every run while imported modules come
from their bytecode cache; the work is in ``_child_run.py``. Standard library only.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _child_run

sys.exit(_child_run.main())
