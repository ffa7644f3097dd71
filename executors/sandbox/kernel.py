"""Linux calls the standard library lacks: prctl, capabilities and raw syscalls."""

import ctypes
import os
import signal

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38

_CLONE_NEWNS = 0x00020000
_MS_REC = 0x4000
_MS_PRIVATE = 1 << 18
_MS_NOSUID = 2
_MS_NODEV = 4
_MNT_DETACH = 2

_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


def check(result: int) -> int:
    """Return ``result`` of a libc call, or raise the ``OSError`` its errno names."""
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return result


def syscall(number: int, *args: object) -> int:
    """Call syscall ``number``; arguments are ctypes values or plain integers."""
    return check(int(_libc.syscall(ctypes.c_long(number), *args)))


def prctl(option: int, value: int = 0) -> None:
    check(int(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0)))


def set_dumpable(dumpable: bool) -> None:
    """A non-dumpable process has a root-owned /proc entry and cannot be traced."""
    prctl(PR_SET_DUMPABLE, int(dumpable))


def set_parent_death_signal(sig: signal.Signals = signal.SIGKILL) -> None:
    prctl(PR_SET_PDEATHSIG, int(sig))


def set_no_new_privs() -> None:
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def drop_capabilities() -> None:
    """Clear every capability set of the calling thread, ambient ones included."""
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    check(int(_libc.capset(ctypes.byref(header), ctypes.byref(data))))


def private_mounts() -> None:
    """Move the caller into a mount namespace of its own whose mounts stay private.

    Mounts made afterwards vanish with the last process of the namespace, so a
    crash leaves none behind on the host.
    """
    check(int(_libc.unshare(_CLONE_NEWNS)))
    check(int(_libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None)))


def mount_tmpfs(path: str, *, size_bytes: int) -> None:
    """Mount a tmpfs of at most ``size_bytes`` on ``path``, owner-only."""
    options = f"size={size_bytes},mode=0700".encode()
    flags = _MS_NOSUID | _MS_NODEV
    check(int(_libc.mount(b"tmpfs", path.encode(), b"tmpfs", flags, options)))


def unmount(path: str) -> None:
    check(int(_libc.umount2(path.encode(), _MNT_DETACH)))
