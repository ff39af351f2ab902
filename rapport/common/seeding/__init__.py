"""Demo and scale data: `rapport seed` and the benchmark harness both call `seed`."""

from rapport.common.seeding.generator import (
    DEMO_PASSWORD,
    DEMO_USERS,
    SeedOptions,
    SeedResult,
    demo_users_ensure,
    has_people,
    seed,
)

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "SeedOptions", "SeedResult", "demo_users_ensure", "has_people", "seed"]
