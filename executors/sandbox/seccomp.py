"""The seccomp filter of a worker: a deny list laid over Python's ordinary syscalls.

pyseccomp runs ldconfig when imported (about 19 ms), so only the zygote imports
this module; workers inherit it already loaded.
"""

import ctypes
import errno
import os
import socket
from types import ModuleType
from typing import Any

from executors.sandbox.kernel import syscall

pyseccomp: ModuleType | None
try:
    import pyseccomp as _pyseccomp
except (ImportError, OSError, RuntimeError) as exc:  # libseccomp missing
    pyseccomp = None
    UNAVAILABLE_REASON: str | None = f"{type(exc).__name__}: {exc}"
else:
    pyseccomp = _pyseccomp
    UNAVAILABLE_REASON = None

# Denied with EPERM whatever their arguments.
DENIED = (
    # network: every new socket, and any use of one as client or server
    "socket",
    "connect",
    "bind",
    "listen",
    "accept",
    "accept4",
    # programs and processes
    "execve",
    "execveat",
    "fork",
    "vfork",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "kcmp",
    "tkill",
    # namespaces and mounts
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "mount_setattr",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    # kernel interfaces that bypass the other rules or attack the kernel
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "bpf",
    "userfaultfd",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "setrlimit",
    "personality",
    "name_to_handle_at",
    "open_by_handle_at",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "syslog",
    "vhangup",
    "iopl",
    "ioperm",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    "fanotify_init",
    # memory that RLIMIT_DATA does not count, and NUMA placement
    "memfd_create",
    "memfd_secret",
    "shmget",
    "shmat",
    "shmctl",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "semget",
    "semop",
    "semtimedop",
    "semctl",
    "mbind",
    "migrate_pages",
    "move_pages",
    "process_madvise",
    "process_mrelease",
)

_CLONE_THREAD = 0x00010000
_CLONE_NAMESPACES = (
    0x00020000,  # NEWNS
    0x02000000,  # NEWCGROUP
    0x04000000,  # NEWUTS
    0x08000000,  # NEWIPC
    0x10000000,  # NEWUSER
    0x20000000,  # NEWPID
    0x40000000,  # NEWNET
)
_MAP_SHARED_ANONYMOUS = 0x01 | 0x20
_TTY_INJECTION = (0x5412, 0x541C)  # TIOCSTI, TIOCLINUX
_SIGNALS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")


def available() -> bool:
    return pyseccomp is not None


class _Program(ctypes.Structure):
    _fields_ = (("length", ctypes.c_ushort), ("filter", ctypes.c_void_p))


_SET_MODE_FILTER = 1
_FILTER_FLAG_TSYNC = 1


def compile_program(pid: int) -> bytes:
    """Return the BPF program for worker ``pid``, ready for ``install``.

    libseccomp takes about 2 ms to generate it, so a spare worker does this
    while it waits for a function and installing it later costs microseconds.
    """
    read_end, write_end = os.pipe()
    try:
        with os.fdopen(write_end, "wb") as sink:
            _build(pid).export_bpf(sink)
        return _read_all(read_end)
    finally:
        os.close(read_end)


def install(program: bytes) -> None:
    """Load ``program`` into the calling process, synchronised to all threads.

    no_new_privs must already be set.
    """
    assert pyseccomp is not None
    number = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, "seccomp")
    buffer = ctypes.create_string_buffer(program, len(program))
    header = _Program(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    syscall(number, _SET_MODE_FILTER, _FILTER_FLAG_TSYNC, ctypes.byref(header))


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 65_536):
        chunks.append(chunk)
    return b"".join(chunks)


def _build(pid: int) -> Any:
    """Return a libseccomp filter for worker ``pid``.

    A syscall of a foreign architecture (i386 or x32 numbers) kills the process.
    """
    assert pyseccomp is not None
    deny = pyseccomp.ERRNO(errno.EPERM)
    arg = pyseccomp.Arg
    masked = pyseccomp.MASKED_EQ

    rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    rules.set_attr(pyseccomp.Attr.ACT_BADARCH, pyseccomp.KILL_PROCESS)
    for name in DENIED:
        _add(rules, deny, name)

    # Threads only: a clone without CLONE_THREAD is a fork, and no namespaces.
    _add(rules, deny, "clone", arg(0, masked, _CLONE_THREAD, 0))
    for flag in _CLONE_NAMESPACES:
        _add(rules, deny, "clone", arg(0, masked, flag, flag))
    # ENOSYS makes glibc fall back to clone, whose flags the rules above see.
    _add(rules, pyseccomp.ERRNO(errno.ENOSYS), "clone3")

    for name in _SIGNALS:
        _add(rules, deny, name, arg(0, pyseccomp.NE, pid))
    _add(rules, deny, "prlimit64", arg(2, pyseccomp.NE, 0))
    _add(rules, deny, "socketpair", arg(0, pyseccomp.NE, socket.AF_UNIX))
    _add(
        rules,
        deny,
        "mmap",
        arg(3, masked, _MAP_SHARED_ANONYMOUS, _MAP_SHARED_ANONYMOUS),
    )
    for request in _TTY_INJECTION:
        _add(rules, deny, "ioctl", arg(1, masked, 0xFFFFFFFF, request))
    return rules


def _add(rules: Any, action: int, name: str, *args: Any) -> None:
    assert pyseccomp is not None
    # A syscall this libseccomp does not know is one the kernel cannot have
    # been asked for by name either; workers have no log to report it to.
    if pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name) < 0:
        return
    rules.add_rule(action, name, *args)
