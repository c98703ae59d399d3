"""Numba configuration shared by every compiled kernel of optiviz.

Importing this module (before ``numba`` is imported anywhere else) makes sure
``cache=True`` has a directory it can write: when ``NUMBA_CACHE_DIR`` is unset and
the package directory is read-only (a system install, a container running as a
user who does not own the code, a hosted platform), the cache goes to a
per-user directory under the system's temporary directory instead.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".optiviz-probe-", delete=True)
        probe.close()
        return True
    except OSError:
        return False


def _configure_cache_dir() -> None:
    configured = os.environ.get("NUMBA_CACHE_DIR")
    if configured and _writable(Path(configured)):
        return
    if not configured and _writable(Path(__file__).resolve().parent / "__pycache__"):
        return  # numba's default (next to the sources) works
    user = os.environ.get("USER") or (str(os.getuid()) if hasattr(os, "getuid") else "user")
    os.environ["NUMBA_CACHE_DIR"] = str(Path(tempfile.gettempdir()) / f"optiviz-numba-{user}")


_configure_cache_dir()

import numba  # noqa: E402  (must come after the cache directory is settled)

#: ``numba.njit`` with optiviz's fixed options: cached on disk, never ``fastmath``
#: (it would delete the NaN/inf checks that divergence detection relies on),
#: never ``parallel`` (Streamlit calls kernels from several threads).
jit = numba.njit(cache=True, fastmath=False, parallel=False, nogil=True)
