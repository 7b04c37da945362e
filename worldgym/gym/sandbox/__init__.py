"""Running untrusted Python: a separate process with limits, no network and a private temp dir.

See :func:`run_python` and worldgym/gym/README.md ("Sandbox") for the guarantees and fallbacks.
"""

from __future__ import annotations

from worldgym.gym.sandbox.runner import Limits, SandboxResult, default_hidden_paths, run_python

__all__ = ["Limits", "SandboxResult", "default_hidden_paths", "run_python"]
