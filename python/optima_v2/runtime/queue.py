"""``RequestQueue``: a pool of requests of one model for throughput (like OpenVINO's AsyncInferQueue)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from typing import Any, Callable, Optional

from ._runtime import Exception as RuntimeException
from ._runtime import InferRequest, Model

#: ``fn(request, userdata, exception)``; ``exception`` is None on success.
QueueCallback = Callable[[InferRequest, Any, Optional[BaseException]], object]

MIN_DEFAULT_JOBS = 2


def default_jobs(model: Model) -> int:
    """The job count ``jobs=0`` picks: the thread count of the model's Context pool, at least 2
    (one request computing while the next is being filled and started)."""
    return max(MIN_DEFAULT_JOBS, int(model._context_thread_count))


class RequestQueue:
    """``jobs`` requests of ``model`` run concurrently; ``start()`` hands work to a free one.

    - ``jobs=0`` picks :func:`default_jobs`: the thread count of the pool of the Context that
      loaded the model (``Context.thread_count``: OPTIMA_V2_NUM_THREADS or the physical cores),
      at least 2.
    - ``start(inputs, userdata=None)`` blocks until a request is free, copies ``inputs`` into it
      (anything ``InferRequest.set_inputs`` accepts) and starts it.
    - ``set_callback(fn)``: ``fn(request, userdata, exception)`` runs on a runtime thread when an
      inference finishes (``exception`` is None on success); read the outputs there
      (``request.get_outputs()``): the request is reused as soon as the callback returns.
      Do not call ``start()`` or ``wait_all()`` from the callback.
    - Errors: a failed inference is passed to the callback. Without a callback it is stored, and so
      is an exception raised by the callback itself; ``wait_all()`` re-raises the first stored
      error (the others are counted in its notes) and clears them.
    - ``len(queue)`` is the job count; iterating gives the requests; ``queue[i]`` is one of them.
    """

    def __init__(self, model: Model, jobs: int = 0) -> None:
        if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 0:
            raise ValueError(f"RequestQueue: jobs must be an int >= 0 (0 = automatic), got {jobs!r}")
        if jobs == 0:
            jobs = default_jobs(model)
        self._requests: list[InferRequest] = [model.create_request() for _ in range(jobs)]
        self._userdata: list[Any] = [None] * jobs
        self._started = [False] * jobs
        self._idle: deque[int] = deque(range(jobs))
        self._lock = threading.Condition()
        self._callback: Optional[QueueCallback] = None
        self._errors: list[BaseException] = []
        for index, request in enumerate(self._requests):
            request.set_callback(self._on_done, index)

    # --- completion (runtime thread, GIL held) -------------------------------------------------
    def _on_done(self, request: InferRequest, error: Optional[BaseException], index: int) -> None:
        callback = self._callback
        userdata = self._userdata[index]
        try:
            if callback is not None:
                callback(request, userdata, error)
            elif error is not None:
                self._record(error)
        except BaseException as raised:
            self._record(raised)
        finally:
            self._userdata[index] = None
            with self._lock:
                self._idle.append(index)
                self._lock.notify_all()

    def _record(self, error: BaseException) -> None:
        with self._lock:
            self._errors.append(error)

    # --- public API ----------------------------------------------------------------------------
    def set_callback(self, callback: Optional[QueueCallback]) -> None:
        """``callback(request, userdata, exception)`` on completion; None removes it."""
        if callback is not None and not callable(callback):
            raise TypeError("RequestQueue.set_callback: callback must be callable or None")
        self._callback = callback

    def start(self, inputs: Any = None, userdata: Any = None) -> InferRequest:
        """Start an inference on the next free request (blocking until one is free) and return it.

        ``inputs=None`` starts with the request's current input contents. Bad inputs raise at once
        (the request stays free)."""
        with self._lock:
            while not self._idle:
                self._lock.wait()
            index = self._idle.popleft()
        request = self._requests[index]
        try:
            if self._started[index]:
                # Its callback has returned, but the runtime marks it idle just after: wait for that.
                try:
                    request.wait()
                except RuntimeException:
                    pass  # the previous run's error was delivered already
            if inputs is not None:
                request.set_inputs(inputs)
            self._userdata[index] = userdata
            request.infer()
            self._started[index] = True
        except BaseException:
            self._userdata[index] = None
            with self._lock:
                self._idle.appendleft(index)
                self._lock.notify_all()
            raise
        return request

    def is_ready(self) -> bool:
        """True when a request is free (``start()`` would not block)."""
        with self._lock:
            return bool(self._idle)

    def wait_all(self) -> None:
        """Block until every started inference finished (and its callback returned); then re-raise
        the first error no callback handled, if any."""
        with self._lock:
            while len(self._idle) < len(self._requests):
                self._lock.wait()
            errors, self._errors = self._errors, []
        for index, request in enumerate(self._requests):
            if self._started[index]:
                try:
                    request.wait()
                except RuntimeException:
                    pass
        if errors:
            first = errors[0]
            if len(errors) > 1 and hasattr(first, "add_note"):
                first.add_note(f"RequestQueue: {len(errors) - 1} more error(s) since the last wait_all()")
            raise first

    @property
    def jobs(self) -> int:
        return len(self._requests)

    def __len__(self) -> int:
        return len(self._requests)

    def __iter__(self) -> Iterator[InferRequest]:
        return iter(self._requests)

    def __getitem__(self, index: int) -> InferRequest:
        return self._requests[index]

    def __repr__(self) -> str:
        return f"<RequestQueue jobs={len(self._requests)} free={len(self._idle)}>"
