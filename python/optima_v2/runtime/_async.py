"""``InferRequest.infer_async``: await an inference from asyncio without blocking the event loop."""

from __future__ import annotations

import asyncio
from typing import Any, Optional

from ._runtime import Exception as RuntimeException
from ._runtime import InferRequest


def _settle(future: asyncio.Future[None], error: Optional[BaseException]) -> None:
    if future.done():  # the awaiting task was cancelled meanwhile
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


async def infer_async(self: InferRequest, inputs: Any = None) -> None:
    """infer_async(self, inputs: Inputs | None = None) -> None

    Start the inference (after ``set_inputs(inputs)`` when given) and wait for it without blocking
    the event loop; read the outputs afterwards (``get_outputs()`` or the output tensors).

    Completion comes from the runtime's callback through ``loop.call_soon_threadsafe``. A failed
    inference raises its ``rt.Exception`` subclass in the awaiting task; a request that is already
    running raises ``InvalidOperationException`` at once.

    Callbacks: a callback set with ``set_callback`` stays installed and is still called (first, on
    the runtime thread) for this inference; infer_async only adds a one-shot hook behind it.

    Cancellation: cancelling the awaiting task does not stop the inference. The task gets
    ``CancelledError`` at once; the request stays busy until the run finishes (``infer()`` and
    ``infer_async()`` raise ``InvalidOperationException`` until then; ``req.wait()`` waits for it)
    and its result is discarded.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()

    def hook(error: Optional[BaseException]) -> None:  # runtime thread, GIL held
        try:
            loop.call_soon_threadsafe(_settle, future, error)
        except RuntimeError:  # the loop was closed: nobody awaits the result any more
            pass

    if inputs is not None:
        self.set_inputs(inputs)
    self._infer_notify(hook)
    try:
        await future
    except RuntimeException:
        await _until_idle(self)
        raise
    await _until_idle(self)


async def _until_idle(request: InferRequest) -> None:
    """The hook runs inside the runtime's callback; the request becomes idle right after it returns.
    Wait for that (microseconds, yielding to the loop) so the caller can start it again at once."""
    while True:
        try:
            if not request.wait(1):
                return
        except RuntimeException:
            return  # the run's error was delivered through the future already
        await asyncio.sleep(0)
