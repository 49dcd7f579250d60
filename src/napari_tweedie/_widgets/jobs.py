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

import inspect
import sys
import weakref
from collections.abc import Callable
from typing import Any

from napari.qt.threading import create_worker
from qtpy.QtCore import QTimer

from .interrupt import Interrupted, Interrupter, JobError, _fresh, _interruptible

__all__ = ["Interrupted", "Interrupter", "Job", "JobError", "any_running", "share_the_gil"]

#: the longest the GUI thread waits for the GIL held by a job's thread (see share_the_gil)
GIL_SWITCH_S: float | None = 0.0005


#: the jobs whose worker thread has not ended yet (process-wide, as the GIL switch interval)
_ACTIVE: weakref.WeakSet = weakref.WeakSet()
#: the interpreter's switch interval before the first job lowered it (restored when all end)
_SWITCH_BEFORE: list[float] = []


def any_running() -> bool:
    """Whether a job's worker thread is running (then no layer is removed: see removal.py)."""
    return bool(_ACTIVE)


def _restore_the_gil() -> None:
    """Give the interpreter its own switch interval back once no job runs."""
    if not _ACTIVE and _SWITCH_BEFORE:
        sys.setswitchinterval(_SWITCH_BEFORE.pop())


def share_the_gil(seconds: float | None = None) -> None:
    """Let the GUI thread take the GIL back within ``seconds`` (default :data:`GIL_SWITCH_S`).

    Each OpenGL call of a redraw (hundreds, through ctypes) releases the GIL; a
    job's thread running Python (a sampler's loop of small torch calls) then
    keeps it for up to ``sys.getswitchinterval()`` (5 ms by default) before the
    GUI thread gets it back: a redraw stalled for a second or more.  This sets
    the interpreter's switch interval (for the whole process, never raising
    it) while jobs run; once none runs it is restored.  ``None`` leaves it.
    """
    seconds = GIL_SWITCH_S if seconds is None else seconds
    if seconds and seconds < sys.getswitchinterval():
        if not _SWITCH_BEFORE:
            _SWITCH_BEFORE.append(sys.getswitchinterval())
        sys.setswitchinterval(seconds)


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
        #: whether the callbacks' widget still exists (set by it: a closed viewer's is gone)
        self.alive: Callable[[], bool] = lambda: True
        self._timer = QTimer()
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._poll)

    def start(self) -> Job:
        share_the_gil()
        _ACTIVE.add(self)
        self.started = True
        self._timer.start()
        self.worker.start()
        return self

    def start_soon(self, delay_ms: int) -> Job:
        """Start after ``delay_ms`` of the event loop; a job cancelled meanwhile never starts.

        Used when the click that starts the job added layers: napari draws them
        first (shader builds, texture uploads) instead of racing the worker
        thread for the GIL.
        """

        def go() -> None:
            if self.cancelled:
                self._finished()  # never started: exit callbacks now
            else:
                self.start()

        QTimer.singleShot(delay_ms, go)
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
        if self.running and on_progress and self._progress[1] and self.alive():
            on_progress(*self._progress)

    def _yielded(self, step) -> None:
        if self.running and self._callbacks[2] and self.alive():
            self._callbacks[2](step)

    def _returned(self, result) -> None:
        if self.running and self.alive():
            self._callbacks[0](result)

    def _errored(self, error) -> None:
        if self.running and self.alive():
            self._callbacks[1](error)

    def _finished(self) -> None:
        self._timer.stop()
        self.exited = True
        _ACTIVE.discard(self)
        _restore_the_gil()
        if self.running:
            self.finished = True
            finish = self._callbacks[4]
            if finish and self.alive():
                finish()
        self.finished = True
        callbacks, self._on_exit = self._on_exit, []
        for callback in callbacks:
            callback()
