"""Stopping a job's worker thread at its next step, and a clean torch state for each job.

:class:`Interrupter` raises :class:`Interrupted` inside the worker thread
(never inside an import); :func:`_interruptible` wraps a generator function so
that each step checks for it, and :func:`_fresh` starts each job with torch's
autograd enabled (pool threads are reused).
"""

from __future__ import annotations

import ctypes
import functools
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Interrupted", "Interrupter", "JobError", "fresh_torch_state"]


class JobError(Exception):
    """A ``RuntimeError`` raised inside a generator job, passed on as an ordinary error."""


class Interrupted(BaseException):
    """Raised inside a generator job's thread by Cancel (a ``BaseException``: not swallowed)."""


class Interrupter:
    """Cancel a generator job *within* a step, not only at its next ``yield``.

    One step may run for seconds (a CT operator's conjugate gradients, a large
    network): :meth:`request` raises :class:`Interrupted` asynchronously in the
    worker thread while it runs the job's code, so the thread ends after the
    current torch call.  Outside a step nothing is raised, and a request not yet
    delivered when the step ends is withdrawn.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: int | None = None
        self.requested = False

    def request(self) -> None:
        """Main thread: interrupt the running step (once)."""
        with self._lock:
            if self.requested:
                return
            self.requested = True
        threading.Thread(target=self._deliver, daemon=True).start()

    def _deliver(self) -> None:
        """Raise :class:`Interrupted` in the step's thread, but never inside an import.

        An exception raised while a module is being imported leaves it half
        initialised in ``sys.modules`` for the rest of the session (torch
        imports sympy lazily inside its first autograd call: a Cancel there
        broke every later CT run with "module 'sympy' has no attribute
        'core'").  The request waits until the thread is out of the import.
        """
        while True:
            with self._lock:
                if self._thread is None:
                    return
                if not _importing(self._thread):
                    _raise_in(self._thread, Interrupted)
                    return
            time.sleep(0.02)

    def enter(self) -> None:
        """Worker thread, before a step: raise at once if a request came already."""
        with self._lock:
            if self.requested:
                raise Interrupted
            self._thread = threading.get_ident()

    def leave(self) -> None:
        """Worker thread, after a step: withdraw an undelivered request."""
        with self._lock:
            if self._thread is not None and self.requested:
                _raise_in(self._thread, None)
            self._thread = None


def fresh_torch_state() -> None:
    """Worker thread: torch's thread-local autograd mode back to its default (enabled).

    Jobs run on a reused pool thread; a job that left gradients disabled there
    (a context manager cut short by an interrupt, a library that switches it
    off) would make the next fit on that thread fail with "element 0 of
    tensors does not require grad".
    """
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_grad_enabled(True)


def _fresh(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` run after :func:`fresh_torch_state` (a function job)."""

    @functools.wraps(func)
    def fresh(*args: Any, **kwargs: Any) -> Any:
        fresh_torch_state()
        return func(*args, **kwargs)

    return fresh


def _importing(thread: int) -> bool:
    """Whether ``thread`` is executing an import (a frame of importlib's bootstrap)."""
    frame = sys._current_frames().get(thread)
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _raise_in(thread: int, exception: type[BaseException] | None) -> None:
    """Raise ``exception`` in ``thread`` at its next bytecode (``None``: withdraw it)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread), None if exception is None else ctypes.py_object(exception)
    )


def _interruptible(func: Callable[..., Any], interrupter: Interrupter) -> Callable[..., Any]:
    """Wrap generator function ``func``: steps run under ``interrupter``; errors made plain.

    A cancelled job returns ``None`` (nobody listens any more).  superqt's
    generator worker takes a ``RuntimeError`` for a deleted Qt object: it only
    warns, and emits neither ``errored`` nor ``finished``, so the job would
    look busy for ever; torch reports most failures (out of memory, device or
    shape mismatch) as ``RuntimeError``: they become :class:`JobError`.
    Closing the wrapper (Cancel at a ``yield``) closes ``func``'s generator.
    """

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any):
        fresh_torch_state()
        inner = func(*args, **kwargs)
        try:
            while True:
                try:
                    interrupter.enter()
                    try:
                        step = next(inner)
                    finally:
                        interrupter.leave()
                except StopIteration as stop:
                    return stop.value
                except Interrupted:
                    return None
                except RuntimeError as error:
                    raise JobError(f"{type(error).__name__}: {error}") from error
                yield step
        finally:
            inner.close()

    return guarded
