"""Contact-point hygiene: one canonical form per email and phone, so uniqueness means one person."""

import re
import zoneinfo
from datetime import date
from functools import cache

import phonenumbers
from django.conf import settings
from email_validator import EmailNotValidError, validate_email
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE
from phonenumbers.phonemetadata import PhoneMetadata

from rapport.common.errors import ValidationFailed

_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


# Plain ASCII addresses (nearly all of them) are checked by this stricter pattern; anything else, including
# internationalised addresses, goes through email-validator. It makes bulk imports about a fifth faster.
_SIMPLE_EMAIL = re.compile(
    r"^[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63})$"
)
_RESERVED_TLDS = {"arpa", "invalid", "local", "localhost", "onion", "test"}


def normalise_email(raw: str, *, field: str = "emails") -> str:
    candidate = (raw or "").strip().lower()
    simple = _SIMPLE_EMAIL.match(candidate) if len(candidate) <= 254 else None
    local, _, domain = candidate.partition("@")
    if simple and simple.group(1) not in _RESERVED_TLDS and len(local) <= 64 and "--" not in domain:
        return candidate
    try:
        result = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed.single(field, f"{raw!r} is not a valid email address: {exc}")
    return result.normalized.lower()


def normalise_phone(raw: str, *, region: str | None = None, field: str = "phones") -> str:
    text = (raw or "").strip()
    quick = _international_digits(text)
    if quick is not None:
        country_code, nsn = quick
        if not _possible_length(country_code, len(nsn)):
            raise ValidationFailed.single(field, f"{raw!r} has the wrong number of digits for a phone number.")
        e164 = f"+{country_code}{nsn}"
        _remember_tokens(e164, _tokens_of(e164, country_code, nsn))
        return e164
    try:
        parsed = phonenumbers.parse(text, (region or settings.RAPPORT_DEFAULT_PHONE_REGION or "US").upper())
    except phonenumbers.NumberParseException:
        raise ValidationFailed.single(
            field, f"{raw!r} is not a phone number. Use the international form, e.g. +44 20 7946 0958."
        )
    if not phonenumbers.is_possible_number(parsed):
        raise ValidationFailed.single(field, f"{raw!r} has the wrong number of digits for a phone number.")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    # The number is parsed now; indexing it next (an import indexes every row it validates) need not parse it again.
    _remember_tokens(e164, _tokens(e164, parsed))
    return e164


@cache
def _possible_length(country_code: int, length: int) -> bool:
    """`phonenumbers.is_possible_number` for a number without leading zeros: it looks only at the calling code and
    the length of the national significant number, so each pair is asked once."""
    return phonenumbers.is_possible_number(
        phonenumbers.PhoneNumber(country_code=country_code, national_number=int("9" * length))
    )


# "+44 7946 095812": a plus, then digits in groups split by single spaces, dots or hyphens. Most stored and imported
# numbers look like this, and for them phonenumbers' parse (two fifths of validating an import row) comes down to
# the few steps `_international_digits` takes; anything else goes through phonenumbers.
_INTERNATIONAL = re.compile(r"\+(\d+(?:[ .-]\d+)*)")
_GROUP_SEPARATORS = str.maketrans("", "", " .-")


def _international_digits(text: str) -> tuple[int, str] | None:
    """(calling code, national significant number) of a plainly written international number, exactly as
    `phonenumbers.parse` reads it; None where parse would do more (or refuse it), so the caller lets it decide."""
    written = _INTERNATIONAL.fullmatch(text)
    if written is None:
        return None
    digits = written.group(1).translate(_GROUP_SEPARATORS)
    if len(digits) <= 2 or digits[0] == "0":
        return None
    for size in (1, 2, 3):
        country_code = int(digits[:size])
        if country_code in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    nsn = digits[size:]
    # A leading zero (Italian numbers) and a national prefix to strip are parse's own business.
    if not 2 <= len(nsn) <= 17 or nsn[0] == "0":
        return None
    prefix = _national_prefix(country_code)
    if prefix is not None and prefix.match(nsn):
        return None
    return country_code, nsn


@cache
def _national_prefix(country_code: int) -> re.Pattern | None:
    """The calling code's pattern for a national prefix parse would strip from a number's start, compiled once."""
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region.upper())
    pattern = metadata.national_prefix_for_parsing if metadata is not None else None
    return re.compile(pattern) if pattern else None


# e164 → phone_search_tokens(e164). A memo of a pure function, so what it holds can only save time; it is
# emptied when full rather than kept in order, which is enough for "validated, then indexed a moment later".
_TOKENS_MEMO: dict[str, list[str]] = {}
_TOKENS_MEMO_SIZE = 20_000


def _remember_tokens(e164: str, tokens: list[str]) -> None:
    if len(_TOKENS_MEMO) >= _TOKENS_MEMO_SIZE:
        _TOKENS_MEMO.clear()
    _TOKENS_MEMO[e164] = tokens


def _tokens(e164: str, parsed: phonenumbers.PhoneNumber) -> list[str]:
    # The stored form carries no extension, so neither does the national form indexed for it.
    bare = phonenumbers.PhoneNumber(
        country_code=parsed.country_code,
        national_number=parsed.national_number,
        italian_leading_zero=parsed.italian_leading_zero,
        number_of_leading_zeros=parsed.number_of_leading_zeros,
    )
    return _tokens_of(e164, bare.country_code, phonenumbers.national_significant_number(bare))


def _tokens_of(e164: str, country_code: int, nsn: str) -> list[str]:
    return list(dict.fromkeys([e164.lstrip("+"), nsn, _national_digits(country_code, nsn)]))


_NON_DIGITS = re.compile(r"\D")
_FIRST_GROUP = re.compile(r"(\\\d)")  # phonenumbers' own: the first "\1" of a format rule
_GROUP_REFERENCE = re.compile(r"\\(\d)")


@cache
def _national_rules(country_code: int) -> tuple[tuple[re.Pattern | None, re.Pattern, str], ...]:
    """The national formats of a calling code, compiled once: (leading digits, whole number, the digits the rule
    writes with the national prefix, as a `str.format` template over the number's groups).

    It is what phonenumbers' NATIONAL formatting walks for every number, without its per-call pattern lookups and
    template expansion; an import formats every phone it indexes, and this was a seventh of validating a row.
    """
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region.upper())
    if metadata is None:
        return ()
    rules = []
    for number_format in metadata.number_format:
        leading = number_format.leading_digits_pattern
        rule = number_format.format
        if number_format.national_prefix_formatting_rule:
            rule = _FIRST_GROUP.sub(number_format.national_prefix_formatting_rule, rule, count=1)
        # "0\1 \2" → "0{0}{1}": the number's digits as the rule writes them, without its separators, filled in by
        # str.format rather than by expanding a regular-expression template for every number.
        digits_only = "".join(
            f"{{{int(piece) - 1}}}" if index % 2 else _NON_DIGITS.sub("", piece)
            for index, piece in enumerate(_GROUP_REFERENCE.split(rule))
        )
        rules.append((re.compile(leading[-1]) if leading else None, re.compile(number_format.pattern), digits_only))
    return tuple(rules)


def _national_digits(country_code: int, nsn: str) -> str:
    """The digits of the number as dialled at home: `format_number(…, NATIONAL)` without its punctuation."""
    for leading, whole, digits_only in _national_rules(country_code):
        if leading is None or leading.match(nsn):
            groups = whole.fullmatch(nsn)
            if groups is not None:
                return digits_only.format(*groups.groups(""))
    return nsn


def phone_search_tokens(e164: str) -> list[str]:
    """The digit strings a stored phone is indexed under, so it is found however a user types it.

    "+49 30 1234567" is indexed as 49301234567 (international), 301234567 (national significant number) and
    0301234567 (as dialled at home, with the trunk prefix).
    """
    remembered = _TOKENS_MEMO.get(e164)
    if remembered is not None:
        return list(remembered)
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return [e164.lstrip("+")]
    return _tokens(e164, parsed)


def phone_query_digits(text: str) -> list[str]:
    """The digit strings to look up for a phone typed without its country: as typed, and without leading zeros.

    Leading zeros are a trunk prefix ("030 …") or an international prefix ("0049 …"); stripping them gives the
    national significant number or the international digits, both of which phone_search_tokens indexes.
    """
    digits = re.sub(r"\D", "", text or "")
    return [d for d in dict.fromkeys([digits, digits.lstrip("0")]) if d]


def looks_like_phone(text: str) -> bool:
    digits = re.sub(r"[\s().\-]", "", text or "")
    return bool(re.fullmatch(r"\+?\d{7,15}", digits))


def looks_like_email(text: str) -> bool:
    return bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", (text or "").strip()))


def validate_timezone(name: str) -> str:
    name = (name or "").strip()
    if not name:
        return ""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed.single("timezone", f"{name!r} is not a time zone. Use a name like Europe/Berlin.")
    return name


def validate_country(code: str) -> str:
    code = (code or "").strip()
    if not code:
        return ""
    if not _COUNTRY.match(code):
        raise ValidationFailed.single("location.country", "Use the two-letter country code, e.g. DE or US.")
    return code.upper()


def validate_birthday(value: date | None) -> date | None:
    if value is None:
        return None
    if value > date.today() or value.year < 1900:
        raise ValidationFailed.single("birthday", "The birthday must be a real date in the past.")
    return value
