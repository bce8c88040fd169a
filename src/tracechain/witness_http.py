"""The witness's HTTP face: a Starlette application answering C2SP tlog-witness ``POST /add-checkpoint``.

This is the only module that imports ``starlette``. Each request runs :meth:`Witness.add_checkpoint` in a worker
thread (it fsyncs, so it must not hold up the event loop); the witness's own locks order concurrent requests.
Answers: 200 with the cosignature lines; 409 with the witness's size as ``text/x.tlog.size``; 400, 403, 404 and
422 with a one-line reason as text; 500 when the witness cannot read or save its state.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tracechain.errors import WitnessError
from tracechain.witness import MAX_REQUEST_BYTES, Witness

__all__ = ["SIZE_CONTENT_TYPE", "witness_app"]

SIZE_CONTENT_TYPE = "text/x.tlog.size"
"""The content type of a 409 Conflict answer, whose body is the witness's tree size and a newline."""


def witness_app(witness: Witness) -> Starlette:
    """The ASGI application serving ``witness``: ``POST /add-checkpoint`` only."""

    async def add_checkpoint(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_REQUEST_BYTES:  # stop reading a hostile body early
                return PlainTextResponse(f"request body is longer than {MAX_REQUEST_BYTES} bytes\n", 400)
        try:
            lines = await run_in_threadpool(witness.add_checkpoint, bytes(body))
        except WitnessError as e:
            if e.status == 409 and e.size is not None:
                # Exactly this type, as C2SP says: Starlette would add "; charset=utf-8" to a media_type.
                return Response(f"{e.size}\n".encode("ascii"), 409, headers={"Content-Type": SIZE_CONTENT_TYPE})
            return PlainTextResponse(str(e).replace("\n", " ") + "\n", e.status)
        return PlainTextResponse(lines, 200)

    return Starlette(routes=[Route("/add-checkpoint", add_checkpoint, methods=["POST"])])
