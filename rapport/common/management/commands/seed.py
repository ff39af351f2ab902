"""`rapport seed`: demo sign-ins, and realistic people, jobs and history at any scale."""

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.accounts.models import Role
from rapport.common.seeding import DEMO_PASSWORD, DEMO_USERS, SeedOptions, demo_users_ensure, has_people, seed
from rapport.common.seeding.templates import demo_templates_ensure

ROLE_LABELS = {value: label for value, label in Role.choices}


def _positive(value: str) -> int:
    try:
        number = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise CommandError(f"{value!r} is not a whole number.")
    if number < 0:
        raise CommandError(f"{value} must not be negative.")
    return number


class Command(BaseCommand):
    help = (
        "Generate realistic demo data: people, jobs, applications with stage history, notes and timeline events. "
        "With --demo, also create the demo sign-ins and print them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--demo", action="store_true", help="Create the demo sign-ins (password rapport-demo).")
        parser.add_argument(
            "--if-empty", action="store_true", help="Only generate people when the database has none yet."
        )
        parser.add_argument("--candidates", type=_positive, default=2_000, help="People to create (default 2,000).")
        parser.add_argument("--jobs", type=_positive, default=30, help="Jobs to create (default 30).")
        parser.add_argument(
            "--applications", type=_positive, default=None, help="Applications in total (default: 2 per person)."
        )
        parser.add_argument(
            "--events",
            type=_positive,
            default=None,
            help="Timeline events in total (default: 5 per person; never fewer than the history needs).",
        )
        parser.add_argument(
            "--big-job-applications",
            type=_positive,
            default=0,
            help="Give the first job exactly this many applications (e.g. 5000 for the kanban benchmark).",
        )
        parser.add_argument(
            "--heavy-candidate-events",
            type=_positive,
            default=0,
            help="Give one person exactly this many timeline events (e.g. 2000 for the profile benchmark).",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed: the same seed gives the same data.")

    def handle(self, *args: Any, **options: Any) -> None:
        demo = options["demo"]
        if demo:
            users = demo_users_ensure(with_passwords=True)
            demo_templates_ensure(author=users[DEMO_USERS[1][0]])
        if options["if_empty"] and has_people():
            self.stdout.write("People are already there; not generating more (drop --if-empty to add more).")
        else:
            if options["big_job_applications"] > options["candidates"]:
                raise CommandError("--big-job-applications cannot be larger than --candidates.")
            if options["jobs"] == 0 and options["applications"]:
                raise CommandError("--applications needs at least one job (--jobs).")
            result = seed(
                SeedOptions(
                    candidates=options["candidates"],
                    jobs=options["jobs"],
                    applications=options["applications"] if options["jobs"] else 0,
                    events=options["events"],
                    big_job_applications=options["big_job_applications"],
                    heavy_candidate_events=options["heavy_candidate_events"],
                    seed=options["seed"],
                    demo_passwords=demo,
                    progress=self._progress,
                )
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created {result.candidates:,} people, {result.jobs:,} jobs, {result.applications:,} "
                    f"applications, {result.events:,} timeline events and {result.notes:,} notes "
                    f"in {result.seconds:,.1f} s."
                )
            )
        if demo:
            self._print_sign_ins()

    def _progress(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _print_sign_ins(self) -> None:
        base = os.environ.get("RAPPORT_BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}"
        rows = [(ROLE_LABELS[role], email, DEMO_PASSWORD) for email, _name, role in DEMO_USERS]
        header = ("Role", "Email", "Password")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
        lines = [f"Rapport demo: open {base}", ""]
        lines.append("  ".join(h.ljust(widths[i]) for i, h in enumerate(header)))
        lines += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
        inner = max(len(line) for line in lines)
        fancy = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"
        h, v, tl, tr, bl, br = ("─", "│", "┌", "┐", "└", "┘") if fancy else ("-", "|", "+", "+", "+", "+")
        out = [f"{tl}{h * (inner + 2)}{tr}"]
        out += [f"{v} {line.ljust(inner)} {v}" for line in lines]
        out.append(f"{bl}{h * (inner + 2)}{br}")
        self.stdout.write("\n".join(out))
