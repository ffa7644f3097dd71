"""Messages between executor, zygote and worker, and the framing of each channel.

Executor and worker talk over a stream socketpair in frames: a 5-byte header
(kind, body length) then the body. Executor and zygote talk over a seqpacket
socket, one msgpack message per packet, file descriptors attached.
"""

import array
import enum
import socket
import struct

import msgspec

from executors.sandbox.outcome import ErrorCode

HEADER = struct.Struct("<BI")


class Kind(enum.IntEnum):
    LOAD = 1
    """executor -> worker: a ``Load`` message."""

    CALL = 2
    """executor -> worker: the input JSON."""

    LOADED = 3
    """worker -> executor: the function compiled and its module ran."""

    RESULT = 4
    """worker -> executor: the result JSON."""

    FAILURE = 5
    """worker -> executor: a ``Failure`` message."""


class Load(msgspec.Struct, frozen=True, kw_only=True):
    """Everything that turns a spare worker into a worker of one function."""

    code: str
    uid: int | None
    """Switch to this uid and gid; None when the sandbox does not run as root."""

    memory_bytes: int
    file_bytes: int
    open_files: int
    tasks: int
    cpu_seconds: int
    max_result_bytes: int


class Failure(msgspec.Struct, frozen=True, kw_only=True):
    code: ErrorCode
    message: str


class ZygoteConfig(msgspec.Struct, frozen=True, kw_only=True):
    """What the zygote is started with, as its only argument."""

    executor_pid: int
    control_fd: int
    sys_path: list[str]
    preload: list[str]
    scratch_root: str
    read_paths: list[str]
    scratch_bytes: int = 0


class Spawn(msgspec.Struct, frozen=True, tag="spawn"):
    """executor -> zygote, with the worker's channel and log pipe ends attached."""

    request: int


class Spawned(msgspec.Struct, frozen=True, tag="spawned"):
    """zygote -> executor, with a pidfd of the new worker attached."""

    request: int
    pid: int


class SpawnFailed(msgspec.Struct, frozen=True, tag="spawn_failed"):
    request: int
    message: str


class Exited(msgspec.Struct, frozen=True, tag="exited"):
    """zygote -> executor: a worker was reaped; ``status`` as ``os.waitpid`` gives."""

    pid: int
    status: int


class Hello(msgspec.Struct, frozen=True, tag="hello"):
    """zygote -> executor once ready: which hardening layers this kernel offers."""

    pid: int
    landlock_abi: int
    seccomp_error: str | None
    missing_modules: list[str]
    scratch_quota_error: str | None = None


ToZygote = Spawn
FromZygote = Spawned | SpawnFailed | Exited | Hello

control_encoder = msgspec.msgpack.Encoder()
to_zygote_decoder = msgspec.msgpack.Decoder(ToZygote)
from_zygote_decoder = msgspec.msgpack.Decoder(FromZygote)
load_decoder = msgspec.msgpack.Decoder(Load)
failure_decoder = msgspec.msgpack.Decoder(Failure)

MAX_CONTROL_PACKET = 4096
_MAX_FDS = 2


def frame(kind: Kind, body: bytes) -> bytes:
    return HEADER.pack(kind, len(body)) + body


def send_frame(channel: socket.socket, kind: Kind, body: bytes) -> None:
    """Blocking send, for the worker side."""
    channel.sendall(frame(kind, body))


def receive_frame(channel: socket.socket) -> tuple[int, bytes] | None:
    """Blocking receive, for the worker side; None when the executor hung up."""
    header = _receive_exactly(channel, HEADER.size)
    if header is None:
        return None
    kind, length = HEADER.unpack(header)
    body = _receive_exactly(channel, length)
    return None if body is None else (kind, body)


def _receive_exactly(channel: socket.socket, size: int) -> bytes | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    received = 0
    while received < size:
        count = channel.recv_into(view[received:])
        if count == 0:
            return None
        received += count
    return bytes(buffer)


def receive_packet(
    control: socket.socket, *, flags: int = 0
) -> tuple[bytes, list[int]]:
    """One control packet and the fds attached to it; ``b""`` at end of stream.

    ``socket.recv_fds`` of Python 3.11 drops its ``flags`` argument, so
    ``MSG_DONTWAIT`` needs this.
    """
    fds = array.array("i")
    data, ancillary, _, _ = control.recvmsg(
        MAX_CONTROL_PACKET, socket.CMSG_SPACE(_MAX_FDS * fds.itemsize), flags
    )
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    return data, list(fds)
