"""FHIR validation in a forked worker process, for one-shot command-line runs.

A single ``cds assess`` needs two things that each take about 0.3 s to load: the clinical core
with its catalogue (imports) and the fhir.resources R4B models (imports and class building).
They do not depend on each other, so the command line forks this worker before importing
either: the worker loads the models on a second core while the main process imports the rest,
and then computes each verdict with :func:`cds.fhir.validate.verdict_here`, the function the
main process would have run, so the verdicts are the same. A service loads the models once at
start-up instead (``validate.warm_up``) and never uses this.

The protocol is one resource (JSON) per request and one verdict per reply, each framed by its
length. If the worker is gone or answers garbage, the main process validates in-process from
then on: a lost worker costs time, never a verdict.
"""

from __future__ import annotations

import contextlib
import gc
import os
import struct
from typing import BinaryIO

import orjson

from cds.fhir import validate
from cds.fhir.record import Resource

FRAME = struct.Struct("!I")  # the length of the JSON that follows


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    stream.write(FRAME.pack(len(payload)) + payload)
    stream.flush()


def read_frame(stream: BinaryIO) -> bytes | None:
    """One frame, or ``None`` at the end of the stream (the other side is gone)."""
    header = stream.read(FRAME.size)
    if len(header) < FRAME.size:
        return None
    (size,) = FRAME.unpack(header)
    payload = stream.read(size)
    return payload if len(payload) == size else None


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """The worker's loop: load the models, then answer until the main process closes the pipe."""
    gc.disable()  # loading makes ~10^5 long-lived objects: collecting meanwhile costs ~15 %
    validate.warm_up()
    gc.freeze()  # and they need no collecting later either
    gc.enable()
    while (payload := read_frame(requests)) is not None:
        write_frame(replies, orjson.dumps(validate.verdict_here(orjson.loads(payload))))


class Worker:
    """The main process's end: a validator for :func:`cds.fhir.validate.delegate`."""

    def __init__(self, pid: int, requests: BinaryIO, replies: BinaryIO) -> None:
        self.pid = pid
        self.requests = requests
        self.replies = replies

    def __call__(self, resource: Resource) -> str | None:
        try:
            write_frame(self.requests, orjson.dumps(resource))
            payload = read_frame(self.replies)
            verdict = None if payload is None else orjson.loads(payload)
        except (OSError, orjson.JSONDecodeError, orjson.JSONEncodeError):
            payload = verdict = None
        if payload is None or not (verdict is None or isinstance(verdict, str)):
            validate.delegate(None)  # the worker is gone: validate here from now on
            return validate.verdict_here(resource)
        return verdict

    def close(self) -> None:
        """End the worker and reap it (it leaves at once, without the interpreter's teardown)."""
        for stream in (self.requests, self.replies):
            with contextlib.suppress(OSError):  # the worker already went
                stream.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        if validate.current_validator() is self:
            validate.delegate(None)


def start() -> Worker | None:
    """Fork the worker and make it the validator of this process; ``None`` where fork is not
    available (the validation then stays in-process).

    Call it before any thread is started: the child must not inherit a lock held by another
    thread. The worker ends when this process closes its end of the pipe (:meth:`Worker.close`,
    or exit).
    """
    if not hasattr(os, "fork"):
        return None
    to_worker_r, to_worker_w = os.pipe()
    from_worker_r, from_worker_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        os.close(to_worker_w)
        os.close(from_worker_r)
        code = 0
        try:
            with os.fdopen(to_worker_r, "rb") as requests, os.fdopen(from_worker_w, "wb") as out:
                serve(requests, out)
        except BaseException:  # noqa: BLE001 - the main process notices and validates itself
            code = 1
        os._exit(code)  # no atexit handlers or buffers of the main process run twice
    os.close(to_worker_r)
    os.close(from_worker_w)
    worker = Worker(pid, os.fdopen(to_worker_w, "wb"), os.fdopen(from_worker_r, "rb"))
    validate.delegate(worker)
    return worker
