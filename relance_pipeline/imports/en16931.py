"""CII and UBL 2.1 invoices → `ImportedInvoice`: the EN 16931 business terms, one reader for both syntaxes.

Each business term the pipeline needs (BT-1 number, BT-2 issue date, BT-3 type, BT-5 currency, BT-9 due
date, BT-25 preceding invoice, BT-44/47/48/49/58 and BG-8 the buyer, BT-83 remittance information,
BT-112 total, BT-115 amount due) has one XPath per syntax in `_TERMS`; everything after that is common.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from lxml import etree

from relance_pipeline.imports.imported import Buyer, ImportedInvoice
from relance_pipeline.imports.xml_input import line_of, local_name, namespace, parse_xml
from relance_pipeline.model import CENT, Problem

Syntax = Literal["cii", "ubl", "zf1"]
CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
ZUGFERD_1 = "urn:ferd:CrossIndustryDocument:invoice:1p0"
UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
_NS = {
    "rsm": CII,
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}
# ZUGFeRD 1.0 (2014) is CII of an older draft: the same terms under other element names and namespaces.
_ZF1_NS = {
    "rsm": ZUGFERD_1,
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15",
}
_ZF1_NAMES = (
    ("rsm:ExchangedDocument", "rsm:HeaderExchangedDocument"),
    ("rsm:SupplyChainTradeTransaction", "rsm:SpecifiedSupplyChainTradeTransaction"),
    ("ram:ApplicableHeaderTradeSettlement", "ram:ApplicableSupplyChainTradeSettlement"),
    ("ram:ApplicableHeaderTradeAgreement", "ram:ApplicableSupplyChainTradeAgreement"),
    ("ram:SpecifiedTradeSettlementHeaderMonetarySummation", "ram:SpecifiedTradeSettlementMonetarySummation"),
)
_SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
_SUMMATION = f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
_CII_BUYER = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/ram:BuyerTradeParty"
_UBL_BUYER = "cac:AccountingCustomerParty/cac:Party"
_TERMS: dict[str, dict[Syntax, tuple[str, ...]]] = {
    "BT-1": {"cii": ("rsm:ExchangedDocument/ram:ID",), "ubl": ("cbc:ID",)},
    "BT-2": {"cii": ("rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString",), "ubl": ("cbc:IssueDate",)},
    "BT-3": {"cii": ("rsm:ExchangedDocument/ram:TypeCode",), "ubl": ("cbc:InvoiceTypeCode", "cbc:CreditNoteTypeCode")},
    "BT-5": {"cii": (f"{_SETTLEMENT}/ram:InvoiceCurrencyCode",), "ubl": ("cbc:DocumentCurrencyCode",)},
    "BT-9": {
        "cii": (f"{_SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString",),
        "ubl": ("cbc:DueDate", "cac:PaymentMeans/cbc:PaymentDueDate"),
    },
    "BT-25": {
        "cii": (f"{_SETTLEMENT}/ram:InvoiceReferencedDocument/ram:IssuerAssignedID",),
        "ubl": ("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID",),
    },
    "BT-83": {"cii": (f"{_SETTLEMENT}/ram:PaymentReference",), "ubl": ("cac:PaymentMeans/cbc:PaymentID",)},
    "BT-112": {
        "cii": (f"{_SUMMATION}/ram:GrandTotalAmount",),
        "ubl": ("cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount",),
    },
    "BT-115": {"cii": (f"{_SUMMATION}/ram:DuePayableAmount",), "ubl": ("cac:LegalMonetaryTotal/cbc:PayableAmount",)},
    "BT-44": {
        "cii": (f"{_CII_BUYER}/ram:Name",),
        "ubl": (f"{_UBL_BUYER}/cac:PartyLegalEntity/cbc:RegistrationName", f"{_UBL_BUYER}/cac:PartyName/cbc:Name"),
    },
    "BT-47": {
        "cii": (f"{_CII_BUYER}/ram:SpecifiedLegalOrganization/ram:ID",),
        "ubl": (f"{_UBL_BUYER}/cac:PartyLegalEntity/cbc:CompanyID",),
    },
    "BT-48": {
        "cii": (f"{_CII_BUYER}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']",),
        "ubl": (f"{_UBL_BUYER}/cac:PartyTaxScheme/cbc:CompanyID",),
    },
    "BT-49": {
        "cii": (f"{_CII_BUYER}/ram:URIUniversalCommunication/ram:URIID[@schemeID='EM']",),
        "ubl": (f"{_UBL_BUYER}/cbc:EndpointID[@schemeID='EM']",),
    },
    "BT-58": {
        "cii": (f"{_CII_BUYER}/ram:DefinedTradeContact/ram:EmailURIUniversalCommunication/ram:URIID",),
        "ubl": (f"{_UBL_BUYER}/cac:Contact/cbc:ElectronicMail",),
    },
}
_CII_ADDRESS = ("ram:LineOne", "ram:LineTwo", "ram:LineThree")
_UBL_ADDRESS = ("cbc:StreetName", "cbc:AdditionalStreetName", "cac:AddressLine/cbc:Line")
# UNTDID 1001 codes EN 16931 allows for a credit note.
_CREDIT_NOTE_TYPES = frozenset({"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"})


class _Missing(Exception):
    """A mandatory business term is absent; raised and caught inside this module only."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def read_invoice_xml(name: str, data: bytes, pdf: bytes | None = None) -> ImportedInvoice | Problem:
    root = parse_xml(name, data)
    if isinstance(root, Problem):
        return root
    syntax = _syntax(root)
    if syntax is None:
        return Problem(
            name,
            line_of(root),
            f"not an invoice: the root element is <{local_name(root)}> (CII, ZUGFeRD 1, UBL 2.1)",
            code="import.not_invoice",
        )
    try:
        return _invoice(name, root, syntax, pdf)
    except _Missing as missing:
        return missing.problem


def _syntax(root: etree._Element) -> Syntax | None:
    if namespace(root) == CII and local_name(root) == "CrossIndustryInvoice":
        return "cii"
    if namespace(root) == ZUGFERD_1 and local_name(root) == "CrossIndustryDocument":
        return "zf1"
    if (namespace(root), local_name(root)) in ((UBL_INVOICE, "Invoice"), (UBL_CREDIT_NOTE, "CreditNote")):
        return "ubl"
    return None


def _invoice(name: str, root: etree._Element, syntax: Syntax, pdf: bytes | None) -> ImportedInvoice:
    number = _required(name, root, syntax, "BT-1", "the invoice number")
    issued = _date(name, _element(name, root, syntax, "BT-2", "the issue date"), syntax)
    due_element = _find(root, syntax, "BT-9")
    total = _amount(name, _element(name, root, syntax, "BT-112", "the total with VAT"))
    due_amount_element = _find(root, syntax, "BT-115")
    amount_due = _amount(name, due_amount_element) if due_amount_element is not None else total
    refers_to = _text(root, syntax, "BT-25")
    type_code = _text(root, syntax, "BT-3") or ""
    credit = local_name(root) == "CreditNote" or type_code in _CREDIT_NOTE_TYPES or (total < 0 and refers_to)
    if credit and refers_to is None:
        raise _Missing(
            Problem(
                name,
                line_of(root),
                f"credit note {number} names no invoice it corrects (BT-25)",
                code="import.credit_note_target",
            )
        )
    return ImportedInvoice(
        source=name,
        line=line_of(root),
        kind="credit_note" if credit else "invoice",
        number=number,
        issued=issued,
        due=_date(name, due_element, syntax) if due_element is not None else None,
        total=abs(total) if credit else total,
        amount_due=abs(amount_due) if credit else amount_due,
        currency=(_text(root, syntax, "BT-5") or "EUR").upper(),
        buyer=_buyer(name, root, syntax),
        payment_reference=_text(root, syntax, "BT-83"),
        refers_to=refers_to,
        pdf=pdf,
        paid_on=issued,  # BT-113 is paid in advance: on the invoice's date at the latest
    )


def _buyer(name: str, root: etree._Element, syntax: Syntax) -> Buyer:
    vat_id = _text(root, syntax, "BT-48")
    address = _address(root, syntax)
    french = (not address or not _is_country(address[-1])) and (vat_id is None or vat_id.upper().startswith("FR"))
    return Buyer(
        name=_required(name, root, syntax, "BT-44", "the buyer's name"),
        siren=_siren(_find(root, syntax, "BT-47"), french),
        vat_id="".join(vat_id.split()).upper() if vat_id else None,
        email=_text(root, syntax, "BT-49") or _text(root, syntax, "BT-58"),
        address=address,
    )


def _is_country(line: str) -> bool:
    return len(line) == 2 and line.isalpha() and line.isupper()


def _siren(legal: etree._Element | None, french: bool) -> str | None:
    """BT-47 in the SIRENE scheme (0002), or without a scheme for a French buyer: a SIRET's first nine digits
    are the SIREN. Another country's company number is not a SIREN."""
    if legal is None or legal.get("schemeID", "0002" if french else None) != "0002":
        return None
    digits = "".join((legal.text or "").split())
    return digits[:9] if digits.isdigit() and len(digits) in (9, 14) else None


def _address(root: etree._Element, syntax: Syntax) -> tuple[str, ...]:
    base = f"{_CII_BUYER}/ram:PostalTradeAddress" if syntax != "ubl" else f"{_UBL_BUYER}/cac:PostalAddress"
    ns = _namespaces(syntax)
    found = root.find(_path(base, syntax), ns)
    if found is None:
        return ()
    streets = _CII_ADDRESS if syntax != "ubl" else _UBL_ADDRESS
    lines = [_clean(e.text) for path in streets for e in found.findall(path, ns)]
    code, city, country = (
        ("ram:PostcodeCode", "ram:CityName", "ram:CountryID")
        if syntax != "ubl"
        else ("cbc:PostalZone", "cbc:CityName", "cac:Country/cbc:IdentificationCode")
    )
    parts = (_clean(found.findtext(code, None, ns)), _clean(found.findtext(city, None, ns)))
    town = " ".join(part for part in parts if part)
    country_code = _clean(found.findtext(country, None, ns)).upper()
    lines.append(town)
    if country_code and country_code != "FR":
        lines.append(country_code)
    return tuple(line for line in lines if line)


def _find(root: etree._Element, syntax: Syntax, term: str) -> etree._Element | None:
    for path in _TERMS[term]["cii" if syntax == "zf1" else syntax]:
        found = root.find(_path(path, syntax), _namespaces(syntax))
        if found is not None and _clean(found.text):
            return found
    return None


def _namespaces(syntax: Syntax) -> dict[str, str]:
    return _ZF1_NS if syntax == "zf1" else _NS


def _path(path: str, syntax: Syntax) -> str:
    if syntax == "zf1":
        for new, old in _ZF1_NAMES:
            path = path.replace(new, old)
    return path


def _text(root: etree._Element, syntax: Syntax, term: str) -> str | None:
    found = _find(root, syntax, term)
    return _clean(found.text) if found is not None else None


def _element(name: str, root: etree._Element, syntax: Syntax, term: str, what: str) -> etree._Element:
    found = _find(root, syntax, term)
    if found is None:
        raise _Missing(Problem(name, line_of(root), f"{what} ({term}) is missing", code="import.missing"))
    return found


def _required(name: str, root: etree._Element, syntax: Syntax, term: str, what: str) -> str:
    return _clean(_element(name, root, syntax, term, what).text)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _date(name: str, element: etree._Element, syntax: Syntax) -> date:
    text = _clean(element.text)
    shape = "%Y%m%d" if syntax != "ubl" else "%Y-%m-%d"
    if syntax != "ubl" and element.get("format", "102") != "102":
        raise _Missing(
            Problem(
                name, line_of(element), f"date format {element.get('format')} is not a day (102)", code="import.date"
            )
        )
    try:
        return datetime.strptime(text, shape).date()
    except ValueError:
        raise _Missing(Problem(name, line_of(element), f"'{text}' is not a date", code="import.date")) from None


def _amount(name: str, element: etree._Element) -> Decimal:
    text = _clean(element.text)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Missing(Problem(name, line_of(element), f"'{text}' is not an amount", code="import.amount")) from None
    if not value.is_finite() or value != value.quantize(CENT) or abs(value) >= Decimal("1e12"):
        raise _Missing(Problem(name, line_of(element), f"'{text}' is not an amount in cents", code="import.amount"))
    return value.quantize(CENT)
