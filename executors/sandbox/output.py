"""Bounded capture of what a worker prints during one call."""


class OutputBuffer:
    """Keeps the first ``limit`` bytes written and counts the ones dropped."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._kept = bytearray()
        self._dropped = 0

    def write(self, data: bytes) -> None:
        room = self._limit - len(self._kept)
        if room > 0:
            self._kept += data[:room]
        self._dropped += max(0, len(data) - max(room, 0))

    def text(self) -> str:
        text = self._kept.decode("utf-8", errors="replace")
        if self._dropped:
            text += f"\n[output truncated: {self._dropped} more bytes dropped]\n"
        return text
