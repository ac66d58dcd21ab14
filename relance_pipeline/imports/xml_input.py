"""Untrusted XML bytes → an lxml tree, or one `Problem` saying why not.

Invoices and bank statements come from outside: a file may carry an external entity (XXE), a billion
laughs, a huge text or a wrong encoding declaration. The parser resolves no entity, loads no DTD and
reaches no network, and a document that declares a DTD at all is refused: neither EN 16931 nor ISO 20022
uses one, so one is a sign of a hostile or foreign file.
"""

from __future__ import annotations

from lxml import etree

from relance_pipeline.model import Problem

MAX_XML_BYTES = 20 * 1024 * 1024


def parse_xml(name: str, data: bytes) -> etree._Element | Problem:
    if len(data) > MAX_XML_BYTES:
        return Problem(
            name, None, f"the file is larger than {MAX_XML_BYTES // (1024 * 1024)} MB; not read", code="file.too_large"
        )
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        return Problem(
            name,
            _line_of(data, data.upper().find(b"<!")),
            "a DTD or entity declaration is not allowed",
            code="import.dtd",
        )
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        return Problem(name, error.lineno or None, f"not well-formed XML: {_reason(error)}", code="import.xml_syntax")
    except (ValueError, LookupError) as error:  # an encoding lxml does not know, or text instead of bytes
        return Problem(name, None, f"not readable XML: {error}", code="import.xml_syntax")
    if root.getroottree().docinfo.internalDTD is not None:
        return Problem(name, None, "a DTD is not allowed", code="import.dtd")
    return root


def _reason(error: etree.XMLSyntaxError) -> str:
    message = str(error.msg or error).splitlines()[0]
    return message.split(", line ")[0]


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, max(offset, 0)) + 1


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname


def namespace(element: etree._Element) -> str:
    return etree.QName(element).namespace or ""


def line_of(element: etree._Element) -> int | None:
    """The element's line in its file (lxml knows it for a parsed document, not for a built one)."""
    line = element.sourceline
    return line if isinstance(line, int) else None
