"""Office files that expand to far more than they weigh, built by the tests (nothing is shipped)."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import docx
import openpyxl

CHUNK = 1024 * 1024


def _rewrite(source: bytes, target: Path, big_entry: str, head: bytes, unit: bytes, tail: bytes,
             expanded_bytes: int) -> Path:
    """Copy an Office zip, replacing `big_entry` with head + unit×n + tail (~expanded_bytes unpacked)."""
    repeat = unit * max(1, CHUNK // len(unit))
    with zipfile.ZipFile(io.BytesIO(source)) as original, \
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for entry in original.infolist():
            if entry.filename != big_entry:
                bomb.writestr(entry, original.read(entry))
        with bomb.open(big_entry, "w", force_zip64=True) as member:
            member.write(head)
            for _ in range(expanded_bytes // len(repeat)):
                member.write(repeat)
            member.write(tail)
    return target


def docx_bomb(target: Path, expanded_bytes: int) -> Path:
    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("x")
    document.save(buffer)
    ns = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    return _rewrite(buffer.getvalue(), target, "word/document.xml",
                    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ' + ns + b"><w:body>",
                    b"<w:p><w:r><w:t>" + b"A" * 200 + b"</w:t></w:r></w:p>", b"</w:body></w:document>",
                    expanded_bytes)


def xlsx_bomb(target: Path, expanded_bytes: int) -> Path:
    buffer = io.BytesIO()
    book = openpyxl.Workbook()
    book.active.append(["x"])
    book.save(buffer)
    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    return _rewrite(buffer.getvalue(), target, "xl/worksheets/sheet1.xml",
                    b'<?xml version="1.0" encoding="UTF-8"?><worksheet ' + ns + b"><sheetData>",
                    b'<row><c t="inlineStr"><is><t>' + b"B" * 100 + b"</t></is></c></row>",
                    b"</sheetData></worksheet>", expanded_bytes)


def many_entries_docx(target: Path, entries: int) -> Path:
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as original, \
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for entry in original.infolist():
            out.writestr(entry, original.read(entry))
        for i in range(entries):
            out.writestr(f"customXml/bulk{i}.xml", b"<a/>")
    return target


def forge_declared_size(path: Path, entry: str, size: int) -> Path:
    """Make the archive lie: the central directory (and local header) declare `size` bytes for `entry`."""
    data = bytearray(path.read_bytes())
    name = entry.encode()
    for signature, size_offset, name_offset in ((b"PK\x01\x02", 24, 46), (b"PK\x03\x04", 22, 30)):
        at = data.find(signature)
        while at != -1:
            if data[at + name_offset:at + name_offset + len(name)] == name:
                data[at + size_offset:at + size_offset + 4] = struct.pack("<I", size)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))
    return path
