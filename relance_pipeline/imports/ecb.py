"""The ECB main refinancing operations rate, read from the ECB Data Portal (SDMX REST API, CSV format).

The series `FM/B.U2.EUR.4F.KR.MRR_FR.LEV` holds one observation per change of the rate, dated the day the
new rate took effect. Every way the answer can be wrong (no connection, a timeout, an error status, a web
page instead of data, a malformed or empty table) becomes a `SourceError` with a one-line reason: the
caller prints it and leaves the rate table alone.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal, InvalidOperation

from relance_pipeline.model import EcbRate

DEFAULT_BASE_URL = "https://data-api.ecb.europa.eu/service/data/"
SERIES = "FM/B.U2.EUR.4F.KR.MRR_FR.LEV"
SERIES_KEY = SERIES.replace("/", ".")
DEFAULT_TIMEOUT = 30.0
MAX_BYTES = 5 * 1024 * 1024
_REQUIRED_COLUMNS = ("TIME_PERIOD", "OBS_VALUE")
_MAX_DECIMALS = 4


class SourceError(Exception):
    """The rates could not be read from the source; the message is one line, for the user."""


def series_url(base_url: str) -> str:
    """The address of the series in CSV, under the data resource of an SDMX REST service."""
    return f"{base_url.rstrip('/')}/{SERIES}?format=csvdata"


def fetch_series(base_url: str, timeout: float = DEFAULT_TIMEOUT) -> tuple[EcbRate, ...]:
    return parse_series(fetch_csv(series_url(base_url), timeout))


def fetch_csv(url: str, timeout: float = DEFAULT_TIMEOUT) -> str:
    """The body of the answer as text; raises SourceError for anything but a CSV answer."""
    if not url.lower().startswith(("https://", "http://")):
        raise SourceError("the address should start with https://")
    # The network modules are imported here, by `rates update` alone: every other command starts without them.
    import http.client
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Accept": "text/csv", "User-Agent": "relance-pipeline"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content_type: str = response.headers.get("Content-Type", "")
            raw: bytes = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise SourceError(f"the server answered {error.code} {error.reason}".rstrip()) from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise SourceError(f"no answer within {timeout:g} seconds") from None
        raise SourceError(f"cannot connect ({error.reason})") from None
    except TimeoutError:
        raise SourceError(f"no answer within {timeout:g} seconds") from None
    except (OSError, ValueError, http.client.HTTPException) as error:
        raise SourceError(f"cannot read the answer ({error})") from None
    if len(raw) > MAX_BYTES:
        raise SourceError(f"the answer is larger than {MAX_BYTES // (1024 * 1024)} MiB: not this series")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError("the answer is not UTF-8 text") from None
    if "html" in content_type.lower() or text.lstrip().startswith("<"):
        raise SourceError("the answer is a web page, not CSV data (is the address right?)")
    return text


def parse_series(text: str) -> tuple[EcbRate, ...]:
    """The observations of the CSV answer, oldest first; raises SourceError for a malformed or empty one."""
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        columns = reader.fieldnames or []
        missing = [name for name in _REQUIRED_COLUMNS if name not in columns]
        if not columns:
            raise SourceError("the series is empty (the answer holds no data)")
        if missing:
            raise SourceError(f"the CSV answer has no {' or '.join(missing)} column")
        observations = [_observation(row, reader.line_num) for row in reader]
    except csv.Error as error:
        raise SourceError(f"the CSV answer is malformed ({error}, after line {reader.line_num})") from None
    if not observations:
        raise SourceError("the series is empty (the answer holds no observation)")
    return _in_order(observations)


def _observation(row: dict[str | None, str | list[str] | None], line: int) -> EcbRate:
    if None in row or any(value is None for value in row.values()):
        raise SourceError(f"the CSV answer is malformed (line {line}: the number of fields is wrong)")
    key = row.get("KEY")
    if key is not None and key != SERIES_KEY:
        raise SourceError(f"the CSV answer is for the series {key}, not {SERIES_KEY} (line {line})")
    period, value = str(row["TIME_PERIOD"]).strip(), str(row["OBS_VALUE"]).strip()
    try:
        day = date.fromisoformat(period)
    except ValueError:
        raise SourceError(f"the CSV answer is malformed (line {line}: '{period}' is not a date)") from None
    try:
        rate = Decimal(value)
    except InvalidOperation:
        rate = Decimal("NaN")
    if not rate.is_finite() or not -100 < rate < 100:
        raise SourceError(f"the CSV answer is malformed (line {line}: '{value}' is not a rate in percent)")
    if -rate.normalize().as_tuple().exponent > _MAX_DECIMALS:  # type: ignore[operator]
        raise SourceError(f"the CSV answer is malformed (line {line}: '{value}' has more than 4 decimals)")
    return EcbRate(day, rate)


def _in_order(observations: list[EcbRate]) -> tuple[EcbRate, ...]:
    by_day: dict[date, EcbRate] = {}
    for observation in observations:
        known = by_day.setdefault(observation.since, observation)
        if known.rate != observation.rate:
            raise SourceError(
                f"the CSV answer gives two rates for {observation.since} ({known.rate} and {observation.rate})"
            )
    return tuple(sorted(by_day.values(), key=lambda o: o.since))
