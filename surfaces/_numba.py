"""Numba configuration shared by every compiled kernel of optiviz.

Importing this module (before ``numba`` is imported anywhere else) settles where ``cache=True`` writes:
``NUMBA_CACHE_DIR`` when it is set and writable, else next to the sources (Numba's default) when that is
writable, else a per-user directory under the system's temporary directory (a system install, a container
running as a user who does not own the code, a hosted platform). When none of them can be written, the
kernels are compiled in memory at every start instead (a few seconds). A cache entry that cannot be read
(a truncated or corrupted file) is compiled again and rewritten. Each of these is said once in the log
(logger ``optiviz``), never raised.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger("optiviz")


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".optiviz-probe-", delete=True)
        probe.close()
        return True
    except OSError:
        return False


def _fallback_dir() -> Path:
    user = os.environ.get("USER") or (str(os.getuid()) if hasattr(os, "getuid") else "user")
    return Path(tempfile.gettempdir()) / f"optiviz-numba-{user}"


def _configure_cache_dir() -> bool:
    """Point ``NUMBA_CACHE_DIR`` at a writable directory; False when there is none (no caching)."""
    configured = os.environ.get("NUMBA_CACHE_DIR")
    if configured and _writable(Path(configured)):
        return True
    if not configured and _writable(Path(__file__).resolve().parent / "__pycache__"):
        return True  # numba's default (next to the sources) works
    fallback = _fallback_dir()
    if _writable(fallback):
        os.environ["NUMBA_CACHE_DIR"] = str(fallback)
        if configured:
            log.warning("optiviz: NUMBA_CACHE_DIR=%s cannot be written; Numba's cache is in %s instead.",
                        configured, fallback)
        return True
    tried = [configured] if configured else [str(Path(__file__).resolve().parent / "__pycache__")]
    log.warning("optiviz: no writable directory for Numba's cache (tried %s and %s): the kernels are compiled "
                "in memory at every start (a few seconds) instead of loaded from disk.", ", ".join(tried), fallback)
    return False


#: Whether compiled kernels are kept on disk (False when no cache directory can be written).
CACHE = _configure_cache_dir()

import numba  # noqa: E402  (must come after the cache directory is settled)
from numba.core.caching import FunctionCache  # noqa: E402

_OPTIONS = {"fastmath": False, "parallel": False, "nogil": True, "error_model": "numpy"}
#: The source files of every function compiled with :func:`jit` (filled as they are decorated).
_KERNEL_FILES: set[str] = set()


def _kernels_stamp() -> str:
    """A hash of the compile options and of every kernel's source file. Numba keys a cached entry by the
    function's own bytecode and its file's time stamp only: an entry compiled with other options, or before a
    change to a kernel it calls in another file (the optimizer kernel calls the surfaces'), would be loaded
    as if current."""
    digest = hashlib.sha256(repr(sorted(_OPTIONS.items())).encode())
    for path in sorted(_KERNEL_FILES):
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


class _ReadSafeCache(FunctionCache):
    """Numba's on-disk cache of one function, for which an entry that cannot be read is a miss, and whose
    entries are keyed also by :func:`_kernels_stamp`.

    Numba raises whatever unpickling a damaged file raises (``UnpicklingError``, ``EOFError``...) from the
    first call of the function, which in the app is the first visitor's page. Here the damage is logged, the
    function's index is reset, and the compile that follows writes a good entry."""

    def _index_key(self, sig, codegen):
        return (*super()._index_key(sig, codegen), _kernels_stamp())

    def load_overload(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except Exception as exc:  # any failure to load is a cache miss: compile instead
            log.warning("optiviz: Numba's cache of %s in %s could not be read (%s: %s); compiling it again, "
                        "which rewrites it.", self._py_func.__qualname__, self._cache_path, type(exc).__name__, exc)
            with contextlib.suppress(Exception):
                self.flush()
            return None

    def save_overload(self, sig, data):
        try:
            super().save_overload(sig, data)
        except Exception as exc:  # the kernel is compiled and works; only keeping it failed
            log.warning("optiviz: Numba's cache of %s could not be written to %s (%s: %s); it is compiled at "
                        "every start.", self._py_func.__qualname__, self._cache_path, type(exc).__name__, exc)


def jit(func):
    """``numba.njit`` with optiviz's fixed options: cached on disk where a directory can be written (see the
    module's docstring), never ``fastmath`` (it would delete the NaN/inf checks that divergence detection
    relies on), never ``parallel`` (Streamlit calls kernels from several threads), releasing the GIL, and
    dividing by zero as IEEE 754 and torch do (``error_model="numpy"``: 0/0 is NaN and x/0 infinite, where
    Numba's default raises ``ZeroDivisionError`` from inside the kernel)."""
    _KERNEL_FILES.add(inspect.getsourcefile(func))
    if not CACHE:
        return numba.njit(**_OPTIONS)(func)
    try:
        dispatcher = numba.njit(cache=True, **_OPTIONS)(func)
    except RuntimeError as exc:  # "cannot cache function ...: no locator available"
        log.warning("optiviz: Numba cannot cache %s (%s); it is compiled at every start.", func.__qualname__, exc)
        return numba.njit(**_OPTIONS)(func)
    dispatcher._cache = _ReadSafeCache(func)
    return dispatcher
