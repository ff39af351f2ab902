"""A/B statistics for sequence message steps: rates with confidence intervals, and when a variant may be called
the winner.

- **Intervals.** Each rate (opened, clicked, replied over sent) gets a 95 % Wilson score interval. Unlike the
  textbook "p ± 1.96·se", it stays inside 0–100 % and behaves with small counts and rates near 0 or 1.
- **Significance.** Two variants are compared on a rate with a two-sided two-proportion z-test (pooled
  proportion). When any expected cell count of the 2×2 table is below 5, the normal approximation is poor, so
  Fisher's exact test (two-sided: the sum of the probabilities of every table with the same margins that is no
  more likely than the one observed) is used instead.
- **Winner.** With two variants, the one with the higher rate wins when p < 0.05. With more, the best variant
  must beat every other one with p < 0.05 / (k − 1) (Bonferroni), so that testing several pairs does not make a
  chance "winner" more likely. Otherwise there is no winner yet.
"""

import math
from dataclasses import dataclass

Z95 = 1.959963984540054
ALPHA = 0.05


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The 95 % Wilson score interval of a proportion, as (low, high) between 0 and 1; (0, 0) with no trials."""
    if trials <= 0:
        return 0.0, 0.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


def two_proportion_z_test(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value that two proportions are equal (pooled z-test); 1.0 when it cannot be computed."""
    if n1 <= 0 or n2 <= 0:
        return 1.0
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2))


def fisher_exact_test(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test on the table [[x1, n1 - x1], [x2, n2 - x2]]."""
    successes, total = x1 + x2, n1 + n2
    if n1 <= 0 or n2 <= 0 or successes in (0, total):
        return 1.0
    denominator = math.comb(total, successes)

    def probability(k: int) -> float:
        return math.comb(n1, k) * math.comb(n2, successes - k) / denominator

    observed = probability(x1)
    low, high = max(0, successes - n2), min(n1, successes)
    # A relative tolerance, as R and SciPy use, so tables exactly as likely as the observed one count despite
    # floating-point noise.
    p = sum(pr for k in range(low, high + 1) if (pr := probability(k)) <= observed * (1 + 1e-7))
    return min(1.0, p)


def needs_exact_test(x1: int, n1: int, x2: int, n2: int) -> bool:
    """True when an expected count of the 2×2 table is under 5, where the z-test's approximation fails."""
    total = n1 + n2
    if total == 0:
        return True
    successes = x1 + x2
    failures = total - successes
    expected = [n * s / total for n in (n1, n2) for s in (successes, failures)]
    return min(expected) < 5


def compare(x1: int, n1: int, x2: int, n2: int) -> tuple[float, str]:
    """The p-value that two rates differ, and the test used ("z" or "fisher")."""
    if needs_exact_test(x1, n1, x2, n2):
        return fisher_exact_test(x1, n1, x2, n2), "fisher"
    return two_proportion_z_test(x1, n1, x2, n2), "z"


@dataclass(frozen=True)
class Verdict:
    winner: str | None
    p_value: float | None
    test: str | None


def winner(counts: dict[str, tuple[int, int]]) -> Verdict:
    """The variant (label) whose rate is significantly the best, from {label: (successes, trials)}; or none."""
    labelled = [(label, x, n) for label, (x, n) in sorted(counts.items()) if n > 0]
    if len(labelled) < 2:
        return Verdict(None, None, None)
    best = max(labelled, key=lambda item: (item[1] / item[2], item[2]))
    alpha = ALPHA / (len(labelled) - 1)
    worst_p, test_used = 0.0, "z"
    for label, x, n in labelled:
        if label == best[0]:
            continue
        if x / n >= best[1] / best[2]:
            return Verdict(None, None, None)  # a tie for the best rate
        p, test = compare(best[1], best[2], x, n)
        if p >= worst_p:
            worst_p, test_used = p, test
    if worst_p < alpha:
        return Verdict(best[0], worst_p, test_used)
    return Verdict(None, worst_p, test_used)
