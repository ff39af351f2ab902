"""Sequence time rules and A/B statistics as plain functions: waits in the person's calendar (DST, business days,
"until Monday 09:00"), send windows, the sticky variant choice, Wilson intervals, the z-test and Fisher's test."""

from collections import Counter
from datetime import UTC, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from rapport.automation import stats
from rapport.automation.steps import SendWindow, add_business_days, choose_variant, next_send_time, wait_until

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- waits ----------------------------------------------------------------------------------------------------------


def test_a_wait_in_days_keeps_the_local_time_across_the_spring_dst_change():
    # Saturday 30 March 2024 10:00 in Berlin (CET, UTC+1); DST starts on Sunday 31 March at 02:00.
    start = utc(2024, 3, 30, 9, 0)

    end = wait_until(start, {"days": 1}, BERLIN)

    assert end.astimezone(BERLIN).replace(tzinfo=None) == datetime(2024, 3, 31, 10, 0)
    assert end == utc(2024, 3, 31, 8, 0)  # 23 hours later, as the clock moved forward
    assert end - start == (utc(2024, 3, 31, 8) - utc(2024, 3, 30, 9))


def test_a_wait_in_days_keeps_the_local_time_across_the_autumn_dst_change():
    # Saturday 26 October 2024 10:00 CEST (UTC+2); DST ends on Sunday 27 October at 03:00.
    start = utc(2024, 10, 26, 8, 0)

    end = wait_until(start, {"days": 1}, BERLIN)

    assert end == utc(2024, 10, 27, 9, 0)  # 10:00 CET: 25 hours later
    assert (end - start).total_seconds() == 25 * 3600


def test_a_wait_in_hours_is_absolute_time_even_across_dst():
    start = utc(2024, 3, 30, 23, 0)  # Sunday 00:00 CET in Berlin

    assert wait_until(start, {"hours": 24}, BERLIN) == utc(2024, 3, 31, 23, 0)
    assert wait_until(start, {"minutes": 90}, BERLIN) == utc(2024, 3, 31, 0, 30)


def test_business_days_skip_the_weekend():
    friday_morning = utc(2026, 1, 2, 9, 0)  # Friday 2 January 2026, 10:00 in Berlin

    end = wait_until(friday_morning, {"days": 3, "business_days": True}, BERLIN)

    # Monday, Tuesday, Wednesday: Wednesday 7 January at 10:00 local.
    assert end.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 1, 7, 10, 0)


def test_business_days_from_a_weekend_start_counting_on_monday():
    saturday = utc(2026, 1, 3, 12, 0)

    assert add_business_days(saturday, 1, BERLIN).astimezone(BERLIN).date().isoformat() == "2026-01-05"


def test_business_days_across_the_dst_change_keep_the_local_time():
    friday = utc(2024, 3, 29, 8, 0)  # Friday 29 March 09:00 CET

    end = add_business_days(friday, 1, BERLIN)

    assert end == utc(2024, 4, 1, 7, 0)  # Monday 1 April 09:00 CEST


def test_until_a_weekday_and_time_is_the_next_one_in_the_persons_zone():
    wednesday = utc(2026, 1, 7, 12, 0)

    end = wait_until(wednesday, {"until": {"weekday": "mon", "time": "09:00"}}, NEW_YORK)

    assert end.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2026, 1, 12, 9, 0)
    assert end == utc(2026, 1, 12, 14, 0)


def test_until_the_same_weekday_after_its_time_means_next_week():
    monday_noon = utc(2026, 1, 5, 11, 0)  # 12:00 in Berlin

    end = wait_until(monday_noon, {"until": {"weekday": "mon", "time": "09:00"}}, BERLIN)

    assert end.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 1, 12, 9, 0)


# --- send windows ---------------------------------------------------------------------------------------------------

WORKING_HOURS = SendWindow(time(9), time(17), ("mon", "tue", "wed", "thu", "fri"))


def test_inside_the_window_a_message_goes_at_once():
    tuesday_ten = utc(2026, 1, 6, 9, 0)  # 10:00 in Berlin

    assert next_send_time(tuesday_ten, WORKING_HOURS, BERLIN) == tuesday_ten


def test_after_the_window_a_message_waits_for_the_next_opening():
    tuesday_evening = utc(2026, 1, 6, 19, 0)  # 20:00 in Berlin

    assert next_send_time(tuesday_evening, WORKING_HOURS, BERLIN) == utc(2026, 1, 7, 8, 0)


def test_on_friday_evening_a_message_waits_for_monday_morning():
    friday_evening = utc(2026, 1, 9, 18, 0)

    assert next_send_time(friday_evening, WORKING_HOURS, BERLIN) == utc(2026, 1, 12, 8, 0)


def test_the_window_is_read_in_the_persons_zone_not_the_servers():
    # 14:00 UTC is 15:00 in Berlin (inside) but 09:00 in New York only from 14:00 UTC; 13:00 UTC is 08:00 there.
    at = utc(2026, 1, 6, 13, 0)

    assert next_send_time(at, WORKING_HOURS, BERLIN) == at
    assert next_send_time(at, WORKING_HOURS, NEW_YORK) == utc(2026, 1, 6, 14, 0)


def test_the_window_opening_after_the_spring_dst_change_is_in_summer_time():
    saturday_night = utc(2024, 3, 30, 20, 0)  # Saturday 21:00 CET
    every_day = SendWindow(time(9), time(17))

    opens = next_send_time(saturday_night, every_day, BERLIN)

    assert opens == utc(2024, 3, 31, 7, 0)  # Sunday 09:00 CEST (UTC+2), not 08:00 UTC


def test_the_window_opening_after_the_autumn_dst_change_is_in_winter_time():
    saturday_night = utc(2024, 10, 26, 20, 0)
    every_day = SendWindow(time(9), time(17))

    assert next_send_time(saturday_night, every_day, BERLIN) == utc(2024, 10, 27, 8, 0)  # 09:00 CET


def test_no_window_means_any_time():
    at = utc(2026, 1, 10, 3, 0)

    assert next_send_time(at, None, BERLIN) == at


# --- A/B ------------------------------------------------------------------------------------------------------------


def _variants(*weights):
    return [SimpleNamespace(label="ABCDE"[i], weight=w) for i, w in enumerate(weights)]


def test_a_persons_variant_is_sticky():
    variants = _variants(50, 50)

    picks = {choose_variant(42, 7, variants).label for _ in range(20)}

    assert len(picks) == 1
    # Another order of the same variants gives the same answer.
    assert choose_variant(42, 7, list(reversed(variants))).label in picks


def test_an_even_split_is_about_even_and_a_weighted_one_follows_the_weights():
    even = Counter(choose_variant(person, 3, _variants(50, 50)).label for person in range(1, 4001))
    weighted = Counter(choose_variant(person, 3, _variants(80, 20)).label for person in range(1, 4001))

    assert 1850 < even["A"] < 2150 and even["A"] + even["B"] == 4000
    assert 3050 < weighted["A"] < 3350


def test_different_steps_split_people_independently():
    same = sum(
        choose_variant(person, 1, _variants(50, 50)).label == choose_variant(person, 2, _variants(50, 50)).label
        for person in range(1, 2001)
    )

    assert 850 < same < 1150


# --- statistics -----------------------------------------------------------------------------------------------------


def test_wilson_interval_matches_the_textbook_values():
    low, high = stats.wilson_interval(81, 263)

    assert low == pytest.approx(0.2553, abs=1e-4)
    assert high == pytest.approx(0.3662, abs=1e-4)
    assert stats.wilson_interval(0, 10)[0] == 0.0 and 0.0 < stats.wilson_interval(0, 10)[1] < 0.31
    assert stats.wilson_interval(0, 0) == (0.0, 0.0)


def test_two_proportion_z_test_matches_a_known_result():
    # 200/1000 against 250/1000: z = -2.68, two-sided p ≈ 0.0074.
    assert stats.two_proportion_z_test(200, 1000, 250, 1000) == pytest.approx(0.00738, abs=2e-4)
    assert stats.two_proportion_z_test(10, 100, 10, 100) == pytest.approx(1.0)


def test_fisher_exact_test_matches_the_tea_tasting_example():
    # Fisher's lady tasting tea: [[3, 1], [1, 3]], two-sided p = 0.4857.
    assert stats.fisher_exact_test(3, 4, 1, 4) == pytest.approx(0.4857, abs=1e-4)
    # [[8, 2], [1, 5]]: two-sided p ≈ 0.0350.
    assert stats.fisher_exact_test(8, 10, 1, 6) == pytest.approx(0.0350, abs=1e-3)


def test_small_counts_use_fishers_test_and_large_ones_the_z_test():
    assert stats.compare(8, 10, 1, 6)[1] == "fisher"
    assert stats.compare(200, 1000, 250, 1000)[1] == "z"


def test_a_winner_is_declared_only_when_the_difference_is_significant():
    clear = stats.winner({"A": (250, 1000), "B": (200, 1000)})
    unclear = stats.winner({"A": (21, 100), "B": (20, 100)})

    assert clear.winner == "A" and clear.p_value < 0.05 and clear.test == "z"
    assert unclear.winner is None and unclear.p_value > 0.05
    assert stats.winner({"A": (5, 10)}).winner is None


def test_with_three_variants_the_best_must_beat_each_other_one_after_correction():
    # A beats C clearly but B only at p ≈ 0.038: significant alone, but not below 0.05 / 2.
    verdict = stats.winner({"A": (250, 1000), "B": (211, 1000), "C": (150, 1000)})

    assert verdict.winner is None and 0.025 < verdict.p_value < 0.05
    assert stats.winner({"A": (250, 1000), "B": (211, 1000)}).winner == "A"
    assert stats.winner({"A": (300, 1000), "B": (214, 1000), "C": (150, 1000)}).winner == "A"
