"""Bytes into text for `tracechain.reading`: looking at the first bytes before reading on, and telling the user,
when the text is not UTF-8, which encoding it is in (UTF-16/32 by byte-order mark or NUL bytes, GBK/GB18030 by
decoding) and how to convert it.
"""

from __future__ import annotations

import codecs
import io
import re
from typing import IO, Any, Final

__all__: list[str] = []  # private to tracechain.reading

_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "UTF-32LE"),
    (codecs.BOM_UTF32_BE, "UTF-32BE"),
    (codecs.BOM_UTF16_LE, "UTF-16LE"),
    (codecs.BOM_UTF16_BE, "UTF-16BE"),
)
_CJK: Final = re.compile("[\u4e00-\u9fff]")


class Chain(io.RawIOBase):
    """Bytes already read from a stream, then the rest of the stream: lets the first bytes be looked at first."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self.head, self.stream = head, stream
        self.read_some = getattr(stream, "read1", stream.read)  # not waiting for a full buffer on a pipe

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.head[: len(view)] if self.head else self.read_some(len(view))
        self.head = self.head[len(data) :]
        view[: len(data)] = data
        return len(data)


class Encoded(io.RawIOBase):
    """A text stream as the UTF-8 bytes of its text (a lone surrogate stays a broken sequence, reported as such)."""

    def __init__(self, text: io.TextIOBase) -> None:
        self.text, self.pending = text, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            chunk = self.text.read(1 << 14)
            if not chunk:
                return 0
            self.pending = chunk.encode("utf-8", "surrogatepass")
        view = memoryview(buffer).cast("B")
        data, self.pending = self.pending[: len(view)], self.pending[len(view) :]
        view[: len(data)] = data
        return len(data)


def ends_line(raw: str | bytes) -> bool:
    return raw.endswith("\n") if isinstance(raw, str) else raw.endswith(b"\n")


def foreign_encoding(head: bytes) -> str | None:
    """Why the first bytes show text that is not UTF-8 (a UTF-16/32 byte-order mark, NUL bytes), if they do."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return convert_message(f"{codec} with a byte-order mark", codec[:6])
    if b"\x00" in head:
        wide = "UTF-32" if head.count(0) >= 3 else "UTF-16"
        order = "LE" if head[0] != 0 else "BE"
        return convert_message(f"{wide}{order} (NUL bytes between the characters)", f"{wide}{order}")
    return None


def convert_message(seen: str, codec: str) -> str:
    return (
        f"expected UTF-8 text, found {seen}; convert it with `iconv -f {codec} -t UTF-8 in > out`, "
        f"or read it with encoding={codec.lower()!r}"
    )


def looks_gb18030(raw: bytes) -> bool:
    """Whether bytes that are not UTF-8 read as Chinese text in GB18030 (which includes GBK and GB2312).

    UTF-8 text with a damaged byte also fails UTF-8 and often reads as GB18030; it still holds more well-formed
    UTF-8 characters than broken ones, which GBK text almost never does.
    """
    as_utf8 = raw.decode("utf-8", "replace")
    broken = as_utf8.count("\ufffd")
    if sum(1 for c in as_utf8 if c > "\x7f") - broken >= broken:
        return False
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return _CJK.search(text) is not None


def not_utf8(raw: bytes, error: UnicodeDecodeError, name: str) -> str:
    if b"\x00" in raw:  # no text file holds a NUL byte, and UTF-16/32 would have shown in the first bytes
        return f"expected UTF-8 text, found binary data (a NUL byte at column {raw.index(0) + 1}): not a file of events"
    if looks_gb18030(raw):
        return (
            "expected UTF-8 text, found GBK/GB18030 (the encoding Chinese Windows writes); convert it with "
            f"`iconv -f GBK -t UTF-8 {name} > converted.jsonl` (GB18030 also reads GBK), or read it with "
            "encoding='gb18030'"
        )
    line_start = raw.rfind(b"\n", 0, error.start) + 1
    return (
        f"expected UTF-8 text, found byte 0x{raw[error.start]:02X} at column {error.start - line_start + 1} "
        f"({error.reason}); if the file is in another encoding, convert it with `iconv -f <encoding> -t UTF-8` or "
        f"read it with encoding=<encoding>"
    )
