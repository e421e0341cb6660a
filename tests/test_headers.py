"""R-01/R-02: rate-limit header parsing over a table of named cases, and fuzzed."""

from __future__ import annotations

import math
from email.utils import formatdate

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from altabots_async.ratelimit._headers import (
    ServerClock,
    parse_http_date,
    parse_rate_limit_headers,
)

NOW = 1_700_000_000.0
DATE = formatdate(NOW, usegmt=True)

# (name, headers, field, expected) -- expected None means "ignored".
CASES: list[tuple[str, dict[str, str], str, object]] = [
    ("limit int", {"X-RateLimit-Limit": "100"}, "limit", 100),
    ("limit zero", {"X-RateLimit-Limit": "0"}, "limit", 0),
    ("limit decimal floored", {"X-RateLimit-Limit": "100.9"}, "limit", 100),
    ("limit padded", {"X-RateLimit-Limit": "  100  "}, "limit", 100),
    ("limit list value", {"X-RateLimit-Limit": "100, 100;w=60"}, "limit", 100),
    ("limit with params", {"X-RateLimit-Limit": "100;w=3600"}, "limit", 100),
    ("limit negative", {"X-RateLimit-Limit": "-1"}, "limit", None),
    ("limit garbage", {"X-RateLimit-Limit": "lots"}, "limit", None),
    ("limit empty", {"X-RateLimit-Limit": ""}, "limit", None),
    ("limit nan", {"X-RateLimit-Limit": "nan"}, "limit", None),
    ("limit inf", {"X-RateLimit-Limit": "inf"}, "limit", None),
    ("limit huge", {"X-RateLimit-Limit": "1" + "0" * 40}, "limit", None),
    ("limit hex", {"X-RateLimit-Limit": "0x10"}, "limit", None),
    ("limit lower-case name", {"x-ratelimit-limit": "7"}, "limit", 7),
    ("limit non-ascii digits", {"X-RateLimit-Limit": "\u0661\u0660\u0660"}, "limit", None),
    ("remaining int", {"X-RateLimit-Remaining": "42"}, "remaining", 42),
    ("remaining zero", {"X-RateLimit-Remaining": "0"}, "remaining", 0),
    ("remaining negative", {"X-RateLimit-Remaining": "-5"}, "remaining", None),
    ("remaining decimal", {"X-RateLimit-Remaining": "4.5"}, "remaining", 4),
    ("remaining garbage", {"X-RateLimit-Remaining": "many"}, "remaining", None),
    (
        "remaining above limit clamped",
        {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "99"},
        "remaining",
        10,
    ),
    ("remaining 10^12 alone", {"X-RateLimit-Remaining": str(10**12)}, "remaining", 10**12),
    ("remaining beyond cap", {"X-RateLimit-Remaining": str(10**13)}, "remaining", None),
    ("remaining list", {"X-RateLimit-Remaining": "3, 50"}, "remaining", 3),
    ("reset epoch seconds", {"X-RateLimit-Reset": "1700003600"}, "reset_epoch", 1_700_003_600.0),
    ("reset epoch decimal", {"X-RateLimit-Reset": "1700003600.5"}, "reset_epoch", 1_700_003_600.5),
    ("reset epoch ms", {"X-RateLimit-Reset": "1700003600000"}, "reset_epoch", 1_700_003_600.0),
    (
        "reset epoch ms decimal",
        {"X-RateLimit-Reset": "1700003600123.0"},
        "reset_epoch",
        1_700_003_600.123,
    ),
    ("reset delta seconds", {"X-RateLimit-Reset": "60"}, "reset_delta", 60.0),
    ("reset delta zero", {"X-RateLimit-Reset": "0"}, "reset_delta", 0.0),
    ("reset delta decimal", {"X-RateLimit-Reset": "1.5"}, "reset_delta", 1.5),
    ("reset delta one day", {"X-RateLimit-Reset": "86400"}, "reset_delta", 86_400.0),
    ("reset delta is not epoch", {"X-RateLimit-Reset": "60"}, "reset_epoch", None),
    ("reset epoch is not delta", {"X-RateLimit-Reset": "1700003600"}, "reset_delta", None),
    ("reset negative", {"X-RateLimit-Reset": "-60"}, "reset_delta", None),
    ("reset negative epoch ignored", {"X-RateLimit-Reset": "-1700003600"}, "reset_epoch", None),
    ("reset garbage", {"X-RateLimit-Reset": "soon"}, "reset_delta", None),
    ("reset nan", {"X-RateLimit-Reset": "NaN"}, "reset_delta", None),
    ("reset inf", {"X-RateLimit-Reset": "Infinity"}, "reset_epoch", None),
    ("reset absurd", {"X-RateLimit-Reset": "1" + "0" * 30}, "reset_epoch", None),
    (
        "reset http-date",
        {"X-RateLimit-Reset": formatdate(NOW + 60, usegmt=True)},
        "reset_epoch",
        NOW + 60,
    ),
    ("reset duration string ignored", {"X-RateLimit-Reset": "6m0s"}, "reset_delta", None),
    ("reset padded", {"X-RateLimit-Reset": " 30 "}, "reset_delta", 30.0),
    ("reset list", {"X-RateLimit-Reset": "30, 3600"}, "reset_delta", 30.0),
    ("retry-after seconds", {"Retry-After": "120"}, "retry_after", 120.0),
    ("retry-after zero", {"Retry-After": "0"}, "retry_after", 0.0),
    ("retry-after decimal", {"Retry-After": "0.5"}, "retry_after", 0.5),
    ("retry-after negative", {"Retry-After": "-3"}, "retry_after", None),
    ("retry-after garbage", {"Retry-After": "later"}, "retry_after", None),
    ("retry-after garbage date", {"Retry-After": "later"}, "retry_after_epoch", None),
    (
        "retry-after rfc1123",
        {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"},
        "retry_after_epoch",
        1_445_412_480.0,
    ),
    (
        "retry-after rfc850",
        {"Retry-After": "Wednesday, 21-Oct-15 07:28:00 GMT"},
        "retry_after_epoch",
        1_445_412_480.0,
    ),
    (
        "retry-after asctime",
        {"Retry-After": "Wed Oct 21 07:28:00 2015"},
        "retry_after_epoch",
        1_445_412_480.0,
    ),
    (
        "retry-after date is not seconds",
        {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"},
        "retry_after",
        None,
    ),
    ("retry-after-ms", {"Retry-After-Ms": "1500"}, "retry_after", 1.5),
    ("retry-after-ms wins", {"Retry-After-Ms": "250", "Retry-After": "10"}, "retry_after", 0.25),
    (
        "retry-after-ms garbage falls back",
        {"Retry-After-Ms": "x", "Retry-After": "10"},
        "retry_after",
        10.0,
    ),
    ("retry-after-ms negative", {"Retry-After-Ms": "-1"}, "retry_after", None),
    ("retry-after huge", {"Retry-After": "1000000"}, "retry_after", 1_000_000.0),
    ("retry-after padded", {"Retry-After": "  7 "}, "retry_after", 7.0),
    ("date imf-fixdate", {"Date": DATE}, "date", NOW),
    ("date rfc850", {"Date": "Tuesday, 14-Nov-23 22:13:20 GMT"}, "date", NOW),
    ("date asctime", {"Date": "Tue Nov 14 22:13:20 2023"}, "date", NOW),
    ("date garbage", {"Date": "yesterday"}, "date", None),
    ("date empty", {"Date": ""}, "date", None),
    ("date before 1970", {"Date": "Mon, 01 Jan 1968 00:00:00 GMT"}, "date", None),
    ("date year 99999", {"Date": "Mon, 01 Jan 99999 00:00:00 GMT"}, "date", None),
    ("date numeric", {"Date": "1700000000"}, "date", None),
    ("date with offset", {"Date": "Tue, 14 Nov 2023 23:13:20 +0100"}, "date", NOW),
    ("absent limit", {}, "limit", None),
    ("absent remaining", {}, "remaining", None),
    ("absent reset", {}, "reset_epoch", None),
    ("absent retry-after", {}, "retry_after", None),
    ("absent date", {}, "date", None),
    ("overlong value", {"X-RateLimit-Limit": "1" * 300}, "limit", None),
    ("plus sign", {"X-RateLimit-Remaining": "+5"}, "remaining", 5),
    ("exponent", {"X-RateLimit-Remaining": "5e1"}, "remaining", 50),
    ("underscore number", {"X-RateLimit-Remaining": "1_000"}, "remaining", 1000),
    ("ms threshold boundary", {"X-RateLimit-Reset": "100000000000"}, "reset_epoch", 100_000_000.0),
    (
        "epoch threshold boundary",
        {"X-RateLimit-Reset": "1000000000"},
        "reset_epoch",
        1_000_000_000.0,
    ),
    (
        "just below epoch threshold is delta",
        {"X-RateLimit-Reset": "999999999"},
        "reset_delta",
        999_999_999.0,
    ),
]


@pytest.mark.parametrize(("name", "headers", "field", "expected"), CASES, ids=[c[0] for c in CASES])
def test_header_table(name: str, headers: dict[str, str], field: str, expected: object) -> None:
    """Each header form parses to the exact expected value, or is ignored."""
    parsed = parse_rate_limit_headers(headers)

    value = getattr(parsed, field)

    if isinstance(expected, float):
        assert value == pytest.approx(expected)
    else:
        assert value == expected


def test_table_is_large() -> None:
    """R-01 asks for at least 80 named cases."""
    assert len(CASES) >= 80


def test_problems_reported_for_bad_values() -> None:
    """Present but unusable values are reported as (header, reason)."""
    parsed = parse_rate_limit_headers(
        httpx.Headers({"X-RateLimit-Limit": "x", "X-RateLimit-Reset": "-1", "Date": "?"})
    )

    assert ("x-ratelimit-limit", "not a number") in parsed.problems
    assert ("x-ratelimit-reset", "negative") in parsed.problems
    assert ("date", "not an HTTP-date") in parsed.problems


def test_plain_dict_headers_are_case_insensitive() -> None:
    """A plain mapping with any capitalisation works like httpx.Headers."""
    parsed = parse_rate_limit_headers({"X-RATELIMIT-REMAINING": "3"})

    assert parsed.remaining == 3


_TEXT = st.text(max_size=80)
_NUMBERS = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-1e20, 1e20).map(lambda f: f"{f:.6f}"),
)
_DATES = st.builds(
    lambda year, fmt: fmt.format(year=year),
    st.integers(1, 99_999),
    st.sampled_from(
        [
            "Mon, 01 Jan {year} 00:00:00 GMT",
            "Monday, 01-Jan-{year} 00:00:00 GMT",
            "Mon Jan  1 00:00:00 {year}",
        ]
    ),
)
_VALUE = st.one_of(_TEXT, _NUMBERS, _DATES, st.lists(_NUMBERS, max_size=3).map(", ".join))
_HEADERS = st.dictionaries(
    st.sampled_from(
        [
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
            "Retry-After",
            "Retry-After-Ms",
            "Date",
        ]
    ),
    _VALUE,
)


@settings(max_examples=5000)
@given(_HEADERS)
def test_parser_never_raises(headers: dict[str, str]) -> None:
    """R-02: whatever the six headers say, parsing never raises and numbers are sane."""
    safe = {k: v for k, v in headers.items() if v.isascii() and "\n" not in v and "\r" not in v}
    parsed = parse_rate_limit_headers(httpx.Headers(safe))

    for value in (parsed.limit, parsed.remaining):
        assert value is None or 0 <= value <= 10**12
    for value in (
        parsed.reset_epoch,
        parsed.reset_delta,
        parsed.retry_after,
        parsed.retry_after_epoch,
        parsed.date,
    ):
        assert value is None or math.isfinite(value)
    for value in (parsed.reset_delta, parsed.retry_after):
        assert value is None or value >= 0


@given(st.text(max_size=100))
def test_http_date_never_raises(text: str) -> None:
    """Any text: an HTTP-date or None."""
    value = parse_http_date(text)

    assert value is None or math.isfinite(value)


def test_server_clock_lower_bound_from_date() -> None:
    """The estimate never runs ahead of the server: Date is a lower bound."""
    clock = ServerClock()
    clock.learn(date=1000.0, reset_epoch=None, period=None, sent_mono=9.0, received_mono=10.0)
    clock.learn(date=1001.0, reset_epoch=None, period=None, sent_mono=10.5, received_mono=10.6)

    assert clock.offset(0.0) == pytest.approx(1001.0 - 10.6)


def test_server_clock_follows_a_step() -> None:
    """A server clock that steps back is followed within three responses."""
    clock = ServerClock()
    for mono in (1.0, 2.0, 3.0):
        clock.learn(
            date=1000.0 + mono, reset_epoch=None, period=None, sent_mono=mono, received_mono=mono
        )
    for mono in (4.0, 5.0, 6.0):
        clock.learn(
            date=500.0 + mono, reset_epoch=None, period=None, sent_mono=mono, received_mono=mono
        )

    assert clock.offset(0.0) == pytest.approx(500.0)


def test_server_clock_without_date_uses_reset_bounds() -> None:
    """No Date: our wall clock, clamped by what Reset and the period prove."""
    clock = ServerClock()
    # The server's window (period 10) ends at 2000: its clock is in [1990, 2000) at mono 5.
    clock.learn(date=None, reset_epoch=2000.0, period=10.0, sent_mono=5.0, received_mono=5.0)

    assert clock.offset(wall_minus_mono=0.0) == pytest.approx(1985.0)  # far behind: raised
    assert clock.offset(wall_minus_mono=5000.0) == pytest.approx(1995.0)  # far ahead: lowered


def test_header_names_are_the_parsers_own() -> None:
    """HEADER_NAMES (what a transport passes on) is exactly what the parser reads: a header
    added to the parser and not to the list would silently never reach it."""
    from altabots_async.ratelimit._headers import HEADER_NAMES

    asked: set[str] = set()

    import httpx

    class RecordingHeaders(httpx.Headers):
        def get(self, key: str, default: object = None) -> object:
            asked.add(key.lower())
            return super().get(key, default)

    parse_rate_limit_headers(RecordingHeaders({"x-ratelimit-limit": "1"}))

    assert asked == set(HEADER_NAMES)
