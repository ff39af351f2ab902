"""`rapport export_candidates [--out FILE]`: every person as CSV, streamed, and recorded on the audit log."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.accounts.models import User
from rapport.candidates.exporting import export_candidates_csv
from rapport.candidates.models import Candidate
from rapport.common.errors import ApplicationError


class Command(BaseCommand):
    help = "Export every person to CSV (standard output unless --out is given)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", metavar="FILE", help="write the CSV to this file")
        parser.add_argument("--as", dest="as_email", metavar="EMAIL", help="export as this team member (role checked)")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["as_email"]:
            actor = User.objects.filter(email__iexact=options["as_email"].strip(), is_active=True).first()
            if actor is None:
                raise CommandError(f"--as: there is no active team member with the email {options['as_email']}.")
        out_path = options["out"]
        if not out_path:
            self._export(actor, lambda line: self.stdout.write(line, ending=""))
            return
        try:
            with Path(out_path).open("w", encoding="utf-8", newline="") as handle:
                count = self._export(actor, handle.write)
        except OSError as exc:
            raise CommandError(f"{out_path} cannot be written: {exc.strerror or exc}")
        self.stderr.write(f"Exported {count:,} people to {out_path}.")

    def _export(self, actor: User | None, write: Callable[[str], Any]) -> int:
        """Write the CSV; returns how many people it held."""
        try:
            lines = export_candidates_csv(
                actor=actor, candidates=Candidate.objects.all(), filters={"via": "command line"}
            )
        except ApplicationError as exc:
            raise CommandError(exc.message)
        count = -1  # the header is not a person
        for line in lines:
            write(line)
            count += 1
        return max(count, 0)
