"""Look at a source's bytes before parsing: say plainly what a file is when it is not a table.

A PNG, a PDF, an executable, an empty file or a CSV with only its header would otherwise
reach the CSV or Excel parser and come back as a parser's error, or worse as an election
with no stations. :func:`sniff` recognises those cases from the first bytes (fast, whatever
the file's size), unpacks ``.zip`` and ``.gz`` containers, and raises one
:class:`~pollwatch.errors.IngestError` whose issue says what the file looks like, what was
expected and what to do.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

from pollwatch.errors import DataIssue, IngestError

#: what every message says was expected
EXPECTED = (
    "a results table: CSV/TSV text, an XLSX workbook or a Parquet file "
    "(or a .zip or .gz holding exactly one of those)"
)
_HEADER_ONLY = "a header line followed by one row per polling station"
_SAMPLE = 64 * 1024  # bytes looked at to tell text from binary and to count the first rows

# (signature, offset, what it is, hint)
_EXPORT_HINT = (
    "export the results table itself (CSV or XLSX); protocols that exist only as "
    "images or PDF must be transcribed to a table first"
)
_WRONG_FILE_HINT = "check that this is the results file you meant to pass"
_SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "a PNG image", _EXPORT_HINT),
    (b"\xff\xd8\xff", 0, "a JPEG image", _EXPORT_HINT),
    (b"GIF87a", 0, "a GIF image", _EXPORT_HINT),
    (b"GIF89a", 0, "a GIF image", _EXPORT_HINT),
    (b"II*\x00", 0, "a TIFF image", _EXPORT_HINT),
    (b"MM\x00*", 0, "a TIFF image", _EXPORT_HINT),
    (b"%PDF-", 0, "a PDF document", _EXPORT_HINT),
    (b"\x7fELF", 0, "an executable program (ELF)", _WRONG_FILE_HINT),
    (b"MZ", 0, "an executable program (Windows)", _WRONG_FILE_HINT),
    (b"\xcf\xfa\xed\xfe", 0, "an executable program (Mach-O)", _WRONG_FILE_HINT),
    (b"\xfe\xed\xfa\xcf", 0, "an executable program (Mach-O)", _WRONG_FILE_HINT),
    (b"\xca\xfe\xba\xbe", 0, "an executable program (Mach-O) or Java class", _WRONG_FILE_HINT),
    (
        b"SQLite format 3\x00",
        0,
        "an SQLite database",
        "export the results table from the database as CSV",
    ),
    (
        b"7z\xbc\xaf\x27\x1c",
        0,
        "a 7-Zip archive",
        "unpack it and pass the results file inside (or re-pack it as .zip)",
    ),
    (
        b"Rar!\x1a\x07",
        0,
        "a RAR archive",
        "unpack it and pass the results file inside (or re-pack it as .zip)",
    ),
    (b"BZh", 0, "a bzip2-compressed file", "decompress it (bunzip2) and pass the results file"),
    (b"\xfd7zXZ\x00", 0, "an xz-compressed file", "decompress it (unxz) and pass the results file"),
    (
        b"\x28\xb5\x2f\xfd",
        0,
        "a zstd-compressed file",
        "decompress it (unzstd) and pass the results file",
    ),
    (b"ustar", 257, "a tar archive", "unpack it (tar -xf) and pass the results file inside"),
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_GZIP = b"\x1f\x8b"
_PARQUET = b"PAR1"
_TEXT_CONTROL = set(b"\t\n\r\f\x1a")  # \x1a: DOS end-of-file marker


def _issue(
    source: str,
    message: str,
    *,
    value: str | None = None,
    expected: str = EXPECTED,
    hint: str | None = None,
) -> IngestError:
    return IngestError(
        source, [DataIssue(source, message, value=value, expected=expected, hint=hint)]
    )


def _first_bytes(raw: bytes, n: int = 8) -> str:
    return "bytes " + " ".join(f"{b:02X}" for b in raw[:n])


def _text_preview(raw: bytes, n: int = 60) -> str:
    text = raw[: n * 4].decode("utf-8", errors="replace")
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:n] + ("…" if len(line) > n else "")


#: signatures a text header could start with by chance ("MZ_code,..."): trusted only on binary content
_TEXTLIKE = (b"MZ", b"BZh", b"ustar")


def _binary_kind(raw: bytes) -> tuple[str, str] | None:
    """(what it is, hint) for a known binary signature, else None."""
    for sig, offset, what, hint in _SIGNATURES:
        if raw[offset : offset + len(sig)] == sig:
            if sig in _TEXTLIKE and not _looks_binary(raw[:_SAMPLE]):
                continue
            return what, hint
    return None


def _is_utf16(sample: bytes) -> str | None:
    """The UTF-16 codec for text saved as UTF-16 (Excel's "Unicode text"), else None."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if len(sample) >= 8:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be"
    return None


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 0x20 and b not in _TEXT_CONTROL)
    return control > 0.02 * max(len(sample), 1)


def _zip_members(zf: zipfile.ZipFile) -> list[str]:
    return [
        m
        for m in zf.namelist()
        if not m.endswith("/")
        and not m.startswith("__MACOSX")
        and PurePosixPath(m).name not in (".DS_Store", "Thumbs.db", "desktop.ini")
    ]


def _sheet_part(zf: zipfile.ZipFile, sheet: str | None) -> tuple[str, str] | None:
    """(sheet name, zip member of its XML) for the named sheet or the first one."""
    try:
        wb = zf.read("xl/workbook.xml").decode("utf-8", errors="replace")
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", errors="replace")
    except KeyError:
        return None
    sheets = re.findall(r'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"', wb)
    chosen = next((s for s in sheets if sheet is None or s[0] == sheet), None)
    if chosen is None:
        return None
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
        if f'Id="{chosen[1]}"' in rel:
            target = re.search(r'Target="([^"]*)"', rel)
            if target:
                t = target.group(1)
                return chosen[0], t.lstrip("/") if t.startswith("/") else f"xl/{t}"
    return None


def _xlsx_rows(zf: zipfile.ZipFile, sheet: str | None) -> tuple[str, int] | None:
    """(sheet name, rows holding a value: 0, 1 or 2 meaning "two or more"); None when unsure."""
    part = _sheet_part(zf, sheet)
    if part is None:
        return None
    name, member = part
    try:
        with zf.open(member) as fh:
            xml = fh.read(4 * 1024 * 1024 + 1)
    except (KeyError, zipfile.BadZipFile, zlib.error, OSError):
        return None
    rows = 0
    for m in re.finditer(rb"<(?:\w+:)?row\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?row>)", xml, re.S):
        if m.group(1) and re.search(rb"<(?:\w+:)?(?:v|is)\b", m.group(1)):
            rows += 1
            if rows >= 2:
                return name, 2
    if len(xml) > 4 * 1024 * 1024:  # a huge first row or two: not header-only, let the parser judge
        return None
    if not re.search(rb"</(?:\w+:)?sheetData>|<(?:\w+:)?sheetData\s*/>", xml):
        return None  # the sheet's XML is cut off or odd: the parser says what is wrong with it
    return name, rows


def _check_xlsx(source: str, label: str, raw: bytes, src: dict[str, Any]) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise _issue(
            source,
            f"cannot be read as a table: {label} is named like an XLSX workbook but is not one "
            "(an XLSX file is a ZIP archive; this one is damaged or is another kind of file)",
            value=_describe(raw),
            hint="open it in a spreadsheet program and save it again as .xlsx, or export CSV",
        ) from None
    with zf:
        if "xl/workbook.xml" not in zf.namelist():
            raise _issue(
                source,
                f"cannot be read as a table: {label} is a ZIP archive but not an XLSX workbook "
                "(it has no xl/workbook.xml)",
                value=", ".join(_zip_members(zf)[:5]),
                hint="if it is an archive of results files, name it .zip; otherwise save the table as .xlsx",
            )
        counted = _xlsx_rows(zf, src.get("sheet"))
    if counted is None:
        return
    sheet, rows = counted
    if rows == 0:
        raise _issue(
            source,
            f'the XLSX sheet "{sheet}" has no rows',
            value="an empty sheet",
            expected=f"{_HEADER_ONLY}, on the first sheet or the one set by [source] sheet",
            hint='pick the sheet that holds the results with [source] sheet = "name" in a mapping, '
            "or export the results again",
        )
    if rows == 1:
        raise _issue(
            source,
            f'the XLSX sheet "{sheet}" has a header but no station rows',
            value="one row",
            expected=_HEADER_ONLY,
            hint="the export may have been cut off or filtered to nothing; export the full table again",
        )


def _check_parquet(source: str, label: str, raw: bytes) -> None:
    if not (raw.startswith(_PARQUET) and raw.endswith(_PARQUET)):
        raise _issue(
            source,
            f"cannot be read as a table: {label} is named .parquet but is not a Parquet file "
            "(a Parquet file starts and ends with PAR1)",
            value=_describe(raw),
            hint="if the file is damaged, export it again; if it is CSV or XLSX, give it that extension",
        )
    try:
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(io.BytesIO(raw)).metadata
    except Exception:  # a damaged footer: the parser will say so in its own words
        return
    if meta.num_rows == 0:
        raise _issue(
            source,
            f"{label} has a header but no station rows (a Parquet file with {meta.num_columns} "
            "columns and 0 rows)",
            value="0 rows",
            expected=_HEADER_ONLY,
            hint="the export may have been filtered to nothing; export the full table again",
        )


def _describe(raw: bytes) -> str:
    """What the first bytes look like, for the "got ..." part of a message."""
    kind = _binary_kind(raw)
    if kind:
        return f"{kind[0]} ({_first_bytes(raw)})"
    if raw.startswith(_ZIP):
        return "a ZIP archive"
    if raw.startswith(_GZIP):
        return "a gzip-compressed file"
    if not raw:
        return "0 bytes"
    if _looks_binary(raw[:_SAMPLE]):
        return f"binary data ({_first_bytes(raw)})"
    return f"text starting {_text_preview(raw)!r}"


def _check_text(source: str, label: str, raw: bytes) -> None:
    """Empty, markup instead of a table, or a header with no rows under it."""
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    if not body.strip():
        what = "0 bytes" if not raw else f"{len(raw)} bytes of blank space"
        raise _issue(
            source,
            f"{label} is empty",
            value=what,
            expected=_HEADER_ONLY,
            hint="the download or export may have failed; get the file again",
        )
    head = body[:1024].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or (
        head.startswith(b"<") and b"<html" in head
    ):
        raise _issue(
            source,
            f"cannot be read as a table: {label} is an HTML web page",
            value=_text_preview(body),
            hint="a results page saved from a browser is not a table; download the CSV/XLSX export, "
            "or copy the table into a spreadsheet and save it as CSV",
        )
    if head.startswith(b"<?xml"):
        raise _issue(
            source,
            f"cannot be read as a table: {label} is an XML document",
            value=_text_preview(body),
            hint="convert it to CSV (one row per station, one column per protocol line) first",
        )
    if len(body) > 1024 * 1024:
        return  # a megabyte of text is not a bare header; the parser judges the rest
    text = body.decode(
        "latin-1"
    )  # only quotes and line ends matter here: ASCII in every encoding we read
    try:
        records = [
            r
            for r in csv.reader(io.StringIO(text, newline=""))
            if re.sub(r'[\s,;\t"]', "", "".join(r))
        ]
    except csv.Error:
        return
    if len(records) == 1:
        header = body.decode("utf-8", errors="replace").strip().splitlines()[0]
        raise _issue(
            source,
            f"{label} has a header but no station rows",
            value=header[:120] + ("…" if len(header) > 120 else ""),
            expected=_HEADER_ONLY,
            hint="the export may have been cut off or filtered to nothing; export the full table again",
        )


def _gunzip(source: str, label: str, raw: bytes) -> bytes:
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise _issue(
            source,
            f"cannot be read as a table: {label} is a gzip-compressed file that cannot be "
            f"decompressed ({exc})",
            value=_first_bytes(raw),
            hint="the download may be incomplete; get the file again, or decompress it yourself (gunzip) "
            "to see what is inside",
        ) from None


def _gzip_name(name: str, raw: bytes) -> str:
    if name.lower().endswith(".gz"):
        return name[:-3]
    if name.lower().endswith(".tgz"):
        return name[:-4] + ".tar"
    if len(raw) > 10 and raw[3] & 0x08:  # FNAME: the original file name follows the 10-byte header
        end = raw.find(b"\x00", 10)
        if end > 10:
            return raw[10:end].decode("latin-1")
    return name


def sniff(path: Path, raw: bytes, src: dict[str, Any] | None = None) -> tuple[str, bytes]:
    """The name and bytes of the table inside ``raw`` (unpacked from .zip/.gz), checked for shape.

    Raises :class:`IngestError` with one plain issue when the file is empty, binary, the wrong
    kind of document, an archive of several files, or a table with a header and no rows. Text
    saved as UTF-16 is re-encoded as UTF-8 (unless ``[source] encoding`` names a UTF-16 codec).
    """
    return _sniff(str(path), path.name, raw, src or {}, 0)


def _sniff(
    source: str, name: str, raw: bytes, src: dict[str, Any], depth: int
) -> tuple[str, bytes]:
    label = "the file" if depth == 0 else f"{name} (inside the archive)"
    low = name.lower()
    if raw.startswith(_GZIP):
        if depth >= 2:
            raise _issue(
                source,
                f"cannot be read as a table: {label} is an archive inside an archive",
                value="a gzip-compressed file",
                hint="unpack it and pass the results file itself",
            )
        inner = _gzip_name(name, raw)
        return _sniff(source, inner, _gunzip(source, label, raw), src, depth + 1)
    if raw.startswith(_ZIP):
        with (
            zipfile.ZipFile(io.BytesIO(raw)) if _zip_ok(raw) else _bad_zip(source, label, raw) as zf
        ):
            names = zf.namelist()
            if "xl/workbook.xml" in names:
                xname = name if low.endswith((".xlsx", ".xlsm")) else f"{Path(name).stem}.xlsx"
                _check_xlsx(source, label, raw, src)
                return xname, raw
            if low.endswith((".xlsx", ".xlsm")):
                _check_xlsx(source, label, raw, src)  # raises: a ZIP without a workbook
            if "word/document.xml" in names or any(n.startswith("ppt/") for n in names):
                office = (
                    "a Word document"
                    if "word/document.xml" in names
                    else "a PowerPoint presentation"
                )
                raise _issue(
                    source,
                    f"cannot be read as a table: {label} is {office}",
                    value=f"{office} (a ZIP of Office XML)",
                    hint="copy the table into a spreadsheet and save it as CSV or XLSX",
                )
            if "mimetype" in names and b"opendocument" in zf.read("mimetype"):
                raise _issue(
                    source,
                    f"cannot be read as a table: {label} is an OpenDocument file (.ods/.odt)",
                    value=zf.read("mimetype").decode("ascii", errors="replace"),
                    hint="save it as .xlsx or CSV from LibreOffice and pass that file",
                )
            members = _zip_members(zf)
            if len(members) != 1:
                if not members:
                    raise _issue(
                        source,
                        f"cannot be read as a table: {label} is an empty .zip archive",
                        value="no files",
                        expected="a .zip holding exactly one data file",
                        hint="the archive was made from an empty folder; pack the results file itself",
                    )
                raise IngestError(
                    source,
                    [
                        DataIssue(
                            source,
                            "a .zip must hold exactly one data file",
                            expected="one member",
                            value=", ".join(members[:10])
                            + (f" … ({len(members)} files)" if len(members) > 10 else ""),
                            hint="unpack the archive and pass the results file itself",
                        )
                    ],
                )
            if depth >= 2:
                raise _issue(
                    source,
                    f"cannot be read as a table: {label} is an archive inside an archive",
                    value="a ZIP archive",
                    hint="unpack it and pass the results file itself",
                )
            member = members[0]
            try:
                data = zf.read(member)
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as exc:
                raise _issue(
                    source,
                    f"cannot be read as a table: {member} inside the .zip cannot be extracted ({exc})",
                    value=member,
                    hint="the archive may be damaged or encrypted; unpack it yourself "
                    "and pass the results file",
                ) from None
        return _sniff(source, PurePosixPath(member).name, data, src, depth + 1)
    kind = _binary_kind(raw)
    if kind:
        raise _issue(
            source,
            f"cannot be read as a table: {label} is {kind[0]}, not a results table",
            value=_first_bytes(raw),
            hint=kind[1],
        )
    if raw.startswith(_OLE2):
        if low.endswith(".xls"):
            return name, raw
        raise _issue(
            source,
            f"cannot be read as a table: {label} is an old-format or password-protected "
            "Microsoft Office file (.xls, .doc, .msg, or an encrypted .xlsx)",
            value=_first_bytes(raw),
            hint="if it is an Excel workbook, remove its password and save it as .xlsx (or name an old "
            "workbook .xls); otherwise export the table as CSV",
        )
    if low.endswith((".xlsx", ".xlsm")):
        _check_xlsx(source, label, raw, src)  # raises: not a ZIP
    if low.endswith(".zip"):
        raise _issue(
            source,
            f"cannot be read as a table: {label} is named .zip but is not a ZIP archive",
            value=_describe(raw),
            hint="if it is the results table itself, give it its own extension (.csv, .xlsx)",
        )
    if raw.startswith(_PARQUET) or low.endswith(".parquet"):
        _check_parquet(source, label, raw)
        return (name if low.endswith(".parquet") else f"{Path(name).stem}.parquet"), raw
    codec = _is_utf16(raw[:_SAMPLE])
    if codec:
        wanted = str(src.get("encoding") or "").replace("-", "").replace("_", "").lower()
        if wanted.startswith("utf16"):
            return name, raw
        try:
            raw = raw.decode(codec).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise _issue(
                source,
                f"cannot be read as a table: {label} looks like UTF-16 text but does not decode "
                f"({exc.reason} at byte {exc.start})",
                value=_first_bytes(raw),
                hint='save it as "CSV UTF-8" and pass that file',
            ) from None
    elif _looks_binary(raw[:_SAMPLE]):
        raise _issue(
            source,
            f"cannot be read as a table: {label} holds binary data, not text",
            value=_describe(raw),
            hint="check that the download is complete and is the results table; a spreadsheet must be "
            "saved as CSV or XLSX",
        )
    _check_text(source, label, raw)
    if low.endswith(
        ".xls"
    ):  # text saved under an Excel name (common on official sites): read it as CSV
        return f"{Path(name).stem}.csv", raw
    return name, raw


def _zip_ok(raw: bytes) -> bool:
    try:
        zipfile.ZipFile(io.BytesIO(raw)).close()
        return True
    except (zipfile.BadZipFile, OSError):
        return False


def _bad_zip(source: str, label: str, raw: bytes) -> zipfile.ZipFile:
    raise _issue(
        source,
        f"cannot be read as a table: {label} starts like a ZIP archive but is damaged "
        "(cut off during download?)",
        value=_first_bytes(raw),
        hint="get the file again; a complete .zip ends with its table of contents",
    )
