"""What a file really is, read from its bytes (its first and last 64 KiB), never from its name."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

SNIFF_BYTES = 64 * 1024

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "ofd": "application/ofd",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "ole": "application/x-ole-storage",  # .doc, .xls, .ppt of Office 97-2003
    "zip": "application/zip",
    "rar": "application/vnd.rar",
    "7z": "application/x-7z-compressed",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "dwg": "image/vnd.dwg",
    "dxf": "image/vnd.dxf",
    "csv": "text/csv; charset=utf-8",  # only as declared by the platform for a file it made (storing.Made.kind)
    "age": "application/vnd.age",  # a bid file sealed on the phone (mobile_contract/BID_FILES.md)
    "executable": "application/x-executable",
    "unknown": "application/octet-stream",
}

_DWG = re.compile(rb"^AC10(1[2-9]|2[0-9]|3[0-9])")
_DXF = re.compile(rb"^\s*0\r?\nSECTION\r?\n", re.ASCII)
_EXECUTABLE = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
    b"dex\n",
)


@dataclass(frozen=True, slots=True)
class Sniffed:
    kind: str

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.kind]


def zip_names(tail: bytes) -> list[str]:
    """The member names a zip's central directory lists, as far as its last 64 KiB hold it."""
    names: list[str] = []
    at = tail.find(b"PK\x01\x02")
    while at != -1 and at + 46 <= len(tail):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", tail, at + 28)
        name = tail[at + 46 : at + 46 + name_len]
        names.append(name.decode("utf-8", "replace"))
        nxt = at + 46 + name_len + extra_len + comment_len
        at = tail.find(b"PK\x01\x02", nxt)
    return names


def _zip_kind(head: bytes, tail: bytes) -> str:
    names = zip_names(tail)
    if not names and head.startswith(b"PK\x03\x04") and len(head) >= 30:
        # a central directory beyond the tail: the first local header still names a member
        (name_len,) = struct.unpack_from("<H", head, 26)
        names = [head[30 : 30 + name_len].decode("utf-8", "replace")]
    lowered = {n.lower() for n in names}
    if "ofd.xml" in lowered:
        return "ofd"
    if "[content_types].xml" in lowered:
        for prefix, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
            if any(n.startswith(prefix) for n in lowered):
                return kind
    return "zip"


def sniff(head: bytes, tail: bytes = b"") -> Sniffed:
    """The kind of a file from its first bytes (and, for zip containers, its central directory)."""
    if head.startswith(b"%PDF-"):
        return Sniffed("pdf")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return Sniffed(_zip_kind(head, tail or head))
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return Sniffed("ole")
    if head.startswith(b"Rar!\x1a\x07"):
        return Sniffed("rar")
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return Sniffed("7z")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("png")
    if _DWG.match(head):
        return Sniffed("dwg")
    if head.startswith(b"age-encryption.org/v1\n"):
        return Sniffed("age")
    if head.startswith(_EXECUTABLE):
        return Sniffed("executable")
    if _DXF.match(head[:64]):
        return Sniffed("dxf")
    return Sniffed("unknown")
