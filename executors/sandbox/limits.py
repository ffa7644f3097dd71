"""The operator's limits for the sandbox, one frozen object passed to ``Sandbox``."""

import msgspec

MIB = 1_048_576

# Imported by the zygote so that every worker shares them: quicker imports, less
# memory, and usable even when the worker's uid cannot read the interpreter.
DEFAULT_PRELOAD = (
    "base64",
    "bisect",
    "calendar",
    "csv",
    "collections",
    "copy",
    "dataclasses",
    "datetime",
    "decimal",
    "encodings.ascii",
    "encodings.idna",
    "encodings.latin_1",
    "encodings.unicode_escape",
    "encodings.utf_16",
    "encodings.utf_32",
    "enum",
    "fractions",
    "functools",
    "hashlib",
    "heapq",
    "html",
    "itertools",
    "json",
    "math",
    "mmap",
    "operator",
    "random",
    "re",
    "statistics",
    "string",
    "struct",
    "textwrap",
    "time",
    "typing",
    "unicodedata",
    "urllib.parse",
    "uuid",
    "zlib",
)


class SandboxLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Bounds on what one worker, and the pool of them, may use."""

    max_result_bytes: int = MIB
    """Largest JSON result a call may return."""

    max_log_bytes: int = 65_536
    """Printed output kept per call; the rest is dropped behind a marker."""

    warm_workers: int = 32
    """Workers kept loaded with a function; the least recently used go first."""

    max_memory_mb: int = 1_024
    """Ceiling on a function's ``memory_mb``, applied as RLIMIT_DATA."""

    default_memory_mb: int = 128
    """RLIMIT_DATA of a function whose ``memory_mb`` is not positive."""

    spare_workers: int = 2
    """Clean workers forked ahead of need, so a cold start skips the fork."""

    max_file_bytes: int = 16 * MIB
    """RLIMIT_FSIZE: the largest file a worker may write in its scratch dir."""

    scratch_bytes: int = 32 * MIB
    """Size of the tmpfs on each worker's scratch dir, where mounts are allowed:
    it bounds what all of a worker's files together may hold."""

    max_open_files: int = 64
    """RLIMIT_NOFILE of a worker."""

    max_tasks: int = 128
    """RLIMIT_NPROC: processes and threads of a worker's uid."""

    cpu_budget_s: int = 600
    """RLIMIT_CPU of a worker; it is recycled before a call could reach it."""

    max_calls_per_worker: int = 10_000
    """Calls after which a warm worker is recycled."""

    idle_cpu_s: float = 0.5
    """CPU an idle worker may burn (a thread left running) before it is killed."""

    uid_base: int = 110_000
    """When running as root, function ``id`` runs as ``uid_base + id % uid_span``."""

    uid_span: int = 10_000

    scratch_root: str | None = None
    """Parent of the workers' scratch dirs; a private temporary dir when unset."""

    preload: tuple[str, ...] = DEFAULT_PRELOAD
    """Modules the zygote imports before forking workers."""

    def memory_bytes(self, memory_mb: int) -> int:
        """RLIMIT_DATA for a function asking for ``memory_mb``."""
        wanted = memory_mb if memory_mb > 0 else self.default_memory_mb
        return min(wanted, self.max_memory_mb) * MIB

    def uid_for(self, function_id: int) -> int:
        return self.uid_base + function_id % self.uid_span
