"""Background jobs for dock widgets: napari workers with progress and a Cancel that returns at once.

A :class:`Job` wraps a napari ``thread_worker``. Generator jobs yield
:class:`~napari_tweedie.steps.Step` (cancelled at once, even within a step: see
:class:`Interrupter`); function jobs receive a ``progress(done, total)`` callable that
returns ``False`` once the job is cancelled (the data engine then raises and cleans up).
After ``cancel()`` no callback of the job runs any more, so a cancelled job can never
add a half-finished layer, even if its thread is still unwinding. Work that must wait
for the thread to end (removing layers: napari runs a full ``gc.collect()`` per removed
layer, which holds the GIL and would stall the thread's last step) is handed to
:meth:`Job.after_exit`.
"""

from __future__ import annotations

import ctypes
import functools
import inspect
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from napari.qt.threading import create_worker
from qtpy.QtCore import QTimer

#: the longest the GUI thread waits for the GIL held by a job's thread (see share_the_gil)
GIL_SWITCH_S: float | None = 0.0005


def share_the_gil(seconds: float | None = None) -> None:
    """Let the GUI thread take the GIL back within ``seconds`` (default :data:`GIL_SWITCH_S`).

    Each OpenGL call of a redraw (hundreds, through ctypes) releases the GIL; a
    job's thread running Python (a sampler's loop of small torch calls) then
    keeps it for up to ``sys.getswitchinterval()`` (5 ms by default) before the
    GUI thread gets it back: a redraw stalled for a second or more.  This sets
    the interpreter's switch interval (for the whole process, never raising
    it); ``None`` leaves it.
    """
    seconds = GIL_SWITCH_S if seconds is None else seconds
    if seconds:
        sys.setswitchinterval(min(sys.getswitchinterval(), seconds))


class Job:
    """A cancellable background computation.

    Parameters
    ----------
    func : callable
        A generator function (yields ``Step``, returns the result) or a plain
        function taking a ``progress`` keyword (see module docstring).
    on_step : callable, optional
        Called on the main thread with each yielded step.
    on_done : callable
        Called on the main thread with the result.
    on_error : callable
        Called on the main thread with the exception.
    on_progress : callable, optional
        Called on the main thread with ``(done, total)``, polled every 100 ms
        for function jobs.
    on_finish : callable, optional
        Called on the main thread once the job is over: at ``cancel()``, or
        after ``on_done``/``on_error``.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None],
        on_step: Callable[[Any], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        on_finish: Callable[[], None] | None = None,
    ):
        self.cancelled = False
        self.finished = False
        self.started = False
        self.exited = False
        self._on_exit: list[Callable[[], None]] = []
        self._progress = (0, 0)
        self._interrupter = Interrupter()
        self._callbacks = (on_done, on_error, on_step, on_progress, on_finish)
        # errors go to ``on_error`` (a status message), not to napari's global handler
        options = {"_start_thread": False, "_ignore_errors": True}
        if inspect.isgeneratorfunction(func):
            self.worker = create_worker(_interruptible(func, self._interrupter), **options)
        else:
            self.worker = create_worker(_fresh(func), progress=self._report, **options)
        self.worker.returned.connect(self._returned)
        self.worker.errored.connect(self._errored)
        self.worker.finished.connect(self._finished)
        if hasattr(self.worker, "yielded"):
            self.worker.yielded.connect(self._yielded)
        self._timer = QTimer()
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._poll)

    def start(self) -> Job:
        share_the_gil()
        self.started = True
        self._timer.start()
        self.worker.start()
        return self

    def cancel(self) -> None:
        """Stop listening at once and ask the worker to stop at its next step."""
        if self.cancelled or self.finished:
            return
        self.cancelled = True
        self._timer.stop()
        self.worker.quit()
        self._interrupter.request()
        finish = self._callbacks[4]
        if finish:
            finish()

    def after_exit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the main thread once the worker thread has ended.

        It is called at once if the thread has already ended (or never
        started), else after the job's ``on_finish``.  Qt holds the job only
        weakly: keep a reference to it until then.
        """
        if self.exited or not self.started:
            callback()
        else:
            self._on_exit.append(callback)

    @property
    def running(self) -> bool:
        return not (self.cancelled or self.finished)

    def _report(self, done: int, total: int) -> bool:
        self._progress = (done, total)  # worker thread: only store, the timer displays it
        return not self.cancelled

    def _poll(self) -> None:
        on_progress = self._callbacks[3]
        if self.running and on_progress and self._progress[1]:
            on_progress(*self._progress)

    def _yielded(self, step) -> None:
        if self.running and self._callbacks[2]:
            self._callbacks[2](step)

    def _returned(self, result) -> None:
        if self.running:
            self._callbacks[0](result)

    def _errored(self, error) -> None:
        if self.running:
            self._callbacks[1](error)

    def _finished(self) -> None:
        self._timer.stop()
        self.exited = True
        if self.running:
            self.finished = True
            finish = self._callbacks[4]
            if finish:
                finish()
        self.finished = True
        callbacks, self._on_exit = self._on_exit, []
        for callback in callbacks:
            callback()


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
