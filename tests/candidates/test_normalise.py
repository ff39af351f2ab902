"""Contact-point hygiene: one canonical form per email and phone, and field checks that name the field."""

import random
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from rapport.candidates.normalise import (
    looks_like_email,
    looks_like_phone,
    normalise_email,
    normalise_phone,
    phone_search_tokens,
    validate_birthday,
    validate_country,
    validate_timezone,
)
from rapport.common.errors import ValidationFailed


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Grace@Example.ORG", "grace@example.org"),
        ("  ada@example.org  ", "ada@example.org"),
        ("First.Last+tag@Sub.Example.com", "first.last+tag@sub.example.com"),
    ],
)
def test_an_email_is_trimmed_and_lower_cased(raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "not-an-email", "a@b", "two@@example.org", "space in@example.org"])
def test_an_invalid_email_is_refused_naming_the_field(raw):
    with pytest.raises(ValidationFailed) as caught:
        normalise_email(raw, field="emails")

    assert list(caught.value.fields) == ["emails"]
    assert "not a valid email address" in caught.value.fields["emails"][0]


@pytest.mark.parametrize(
    "raw, region, expected",
    [
        ("+44 20 7946 0958", None, "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("030 1234567", "DE", "+49301234567"),
        ("(030) 123-4567", "de", "+49301234567"),
        ("(415) 555-0100", None, "+14155550100"),
        ("+1 415.555.0100", "DE", "+14155550100"),
    ],
)
def test_a_phone_becomes_e164_using_the_region_as_a_hint(raw, region, expected):
    assert normalise_phone(raw, region=region) == expected


@pytest.mark.parametrize("raw", ["", "call me", "12", "+49 30 1234567 8901234567"])
def test_a_phone_that_cannot_be_a_number_is_refused_naming_the_field(raw):
    with pytest.raises(ValidationFailed) as caught:
        normalise_phone(raw, field="phones")

    assert list(caught.value.fields) == ["phones"]


@pytest.mark.parametrize(
    "text, expected",
    [("+49 30 1234567", True), ("(030) 123-4567", True), ("030.123.4567", True), ("12345", False), ("hopper", False)],
)
def test_looks_like_phone(text, expected):
    assert looks_like_phone(text) is expected


@pytest.mark.parametrize(
    "text, expected", [("grace@example.org", True), (" a@b.co ", True), ("grace@", False), ("grace hopper", False)]
)
def test_looks_like_email(text, expected):
    assert looks_like_email(text) is expected


def test_a_known_time_zone_is_kept_and_blank_means_none():
    assert validate_timezone(" Europe/Berlin ") == "Europe/Berlin"
    assert validate_timezone("") == ""


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "Europe/"])
def test_an_unknown_time_zone_is_refused_naming_the_field(name):
    with pytest.raises(ValidationFailed) as caught:
        validate_timezone(name)

    assert list(caught.value.fields) == ["timezone"]


def test_a_country_code_is_upper_cased():
    assert validate_country("de") == "DE"
    assert validate_country("") == ""


@pytest.mark.parametrize("code", ["Germany", "D", "D1", "DEU"])
def test_a_country_that_is_not_two_letters_is_refused_naming_the_field(code):
    with pytest.raises(ValidationFailed) as caught:
        validate_country(code)

    assert list(caught.value.fields) == ["location.country"]


def test_a_birthday_in_the_past_is_kept():
    assert validate_birthday(date(1990, 4, 23)) == date(1990, 4, 23)
    assert validate_birthday(None) is None


@pytest.mark.parametrize("value", [date.today() + timedelta(days=1), date(1850, 1, 1)])
def test_a_birthday_in_the_future_or_long_ago_is_refused_naming_the_field(value):
    with pytest.raises(ValidationFailed) as caught:
        validate_birthday(value)

    assert list(caught.value.fields) == ["birthday"]


def test_the_fast_path_for_plain_addresses_agrees_with_email_validator():
    """Plain ASCII addresses skip email-validator for speed; they must be accepted and normalised exactly as it would."""
    import random
    import string

    from email_validator import EmailNotValidError, validate_email

    from rapport.candidates.normalise import normalise_email
    from rapport.common.errors import ValidationFailed

    rnd = random.Random(20261122)
    alphabet = string.ascii_letters + string.digits + "._+-@"
    domains = ["@ex-ample.co", "@a.b.io", "@x--y.com", "@q.test", "@Z.Museum", "@1.2", "@-a.org"]
    accepted = 0
    for _ in range(20_000):
        address = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(3, 24)))
        if rnd.random() < 0.6:
            address += rnd.choice(domains)
        try:
            ours = normalise_email(address)
        except ValidationFailed:
            ours = None
        try:
            theirs = validate_email(address.strip(), check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            theirs = None
        assert ours == theirs, address
        accepted += ours is not None
    assert accepted > 1_000


@pytest.mark.parametrize(
    "raw, region",
    [
        ("+44 20 7946 0958", None),
        ("020 7946 0958 ext. 12", "GB"),
        ("06 1 234 5678", "HU"),
        ("+39 06 6982 1234", None),
        ("(201) 555-0123", "US"),
        ("8 (912) 345-67-89", "RU"),
        ("030 1234567", "DE"),
    ],
)
def test_a_phone_indexes_under_the_same_tokens_whether_just_normalised_or_read_back(raw, region):
    from rapport.candidates import normalise

    e164 = normalise_phone(raw, region=region)
    remembered = phone_search_tokens(e164)
    normalise._TOKENS_MEMO.clear()

    assert remembered == phone_search_tokens(e164)
    assert remembered[0] == e164.lstrip("+")


def test_a_phone_is_indexed_under_the_national_form_phonenumbers_would_write():
    """The national token is computed from compiled formats, not by phonenumbers; for every region and kind of
    number, and digits varied from each example, both must give the same digits."""
    import re

    import phonenumbers
    from phonenumbers import PhoneNumberType

    from rapport.candidates import normalise

    kinds = (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE, PhoneNumberType.VOIP)
    compared = 0
    for country_code, _, varied, _ in _varied_examples(kinds, range(2, 6)):
        try:
            number = phonenumbers.parse(f"+{country_code}{varied}", None)
        except phonenumbers.NumberParseException:
            continue
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        normalise._TOKENS_MEMO.clear()
        assert phone_search_tokens(e164)[-1] == re.sub(r"\D", "", national), e164
        compared += 1
    assert compared > 2_000


def test_a_plainly_written_international_number_reads_as_phonenumbers_reads_it():
    """ "+CC digits" skips phonenumbers' parse; for every calling code, with numbers varied from each region's
    examples and written with different separators, the stored form, the search tokens and the refusals must be
    exactly what parsing with phonenumbers gives."""
    import phonenumbers
    from phonenumbers import PhoneNumberType

    from rapport.candidates import normalise

    def by_phonenumbers(text: str) -> tuple[str, list[str]] | None:
        try:
            parsed = phonenumbers.parse(text, "US")
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_possible_number(parsed):
            return None
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        return e164, normalise._tokens(e164, parsed)

    def by_us(text: str) -> tuple[str, list[str]] | None:
        try:
            e164 = normalise_phone(text, region="US")
        except ValidationFailed:
            return None
        # The tokens normalising remembered for indexing, from the number as it was written.
        tokens = phone_search_tokens(e164)
        normalise._TOKENS_MEMO.clear()
        return e164, tokens

    chance = random.Random(20261205)
    kinds = (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE, PhoneNumberType.UAN)
    digit_strings = []
    for country_code, national, varied, keep in _varied_examples(kinds, range(0, 5)):
        digit_strings.append(f"{country_code}{varied}")
        if keep == 0:
            # A trunk prefix written after the calling code, which parse strips for some countries only.
            digit_strings.append(f"{country_code}0{national}")
    digit_strings += ["".join(chance.choice("0123456789") for _ in range(chance.randint(1, 22))) for _ in range(3_000)]

    compared = quick = 0
    for digits in digit_strings:
        cut = sorted(chance.sample(range(1, len(digits)), min(len(digits) - 1, 3))) if len(digits) > 1 else []
        groups = [digits[start:end] for start, end in zip([0, *cut], [*cut, len(digits)], strict=True)]
        for separator in ("", " ", "-", "."):
            text = "+" + separator.join(groups)
            assert by_us(text) == by_phonenumbers(text), text
            compared += 1
            quick += normalise._international_digits(text) is not None
    assert compared > 20_000
    assert quick > compared // 3


def _varied_examples(kinds: tuple, keeps: range) -> Iterator[tuple[int, str, str, int]]:
    """(calling code, example national number, the number with its digits after `keep` drawn at random, keep) for
    every region's example of each kind, the same draws on every run."""
    import phonenumbers

    chance = random.Random(20261205)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in kinds:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            national = phonenumbers.national_significant_number(example)
            for keep in keeps:
                varied = national[:keep] + "".join(chance.choice("0123456789") for _ in national[keep:])
                yield example.country_code, national, varied, keep
