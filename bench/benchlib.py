"""Helpers the benchmark scripts share."""

from __future__ import annotations

import subprocess
import sys


def compile_project(env: dict, python: str = sys.executable) -> None:
    """Byte-compile the packages the timed tools import, as an installed
    package is: an editable install run under PYTHONDONTWRITEBYTECODE=1 would
    otherwise compile every module anew on every run (the peers do not)."""
    # (sys.path[0] of "python -c" is the current folder, which the tools do not search)
    probe = ("import sys; sys.path.pop(0); import mlxk_common, mlxk_bin; "
             "print(mlxk_common.__path__[0]); print(mlxk_bin.__path__[0])")
    found = subprocess.run([python, "-c", probe], env=env, capture_output=True, text=True, check=False)
    for folder in found.stdout.split():
        subprocess.run([python, "-m", "compileall", "-q", folder], env=env, stdout=subprocess.DEVNULL, check=False)
