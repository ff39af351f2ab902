"""`rapport import_candidates FILE.csv`: the same import as the web page, with a progress bar on stderr."""

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.accounts.models import User
from rapport.candidates.importing import (
    DUPLICATE_CHOICES,
    import_error_report_lines,
    import_fields,
    import_job_create,
    import_job_run,
    read_csv,
    suggest_mapping,
)
from rapport.candidates.models import ImportJob, ImportStatus
from rapport.common.errors import ApplicationError

BAR_WIDTH = 30
ERRORS_PRINTED = 20


class Command(BaseCommand):
    help = "Import people from a CSV file (columns are mapped from their headers; override with --map)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV file to import")
        parser.add_argument(
            "--on-duplicate",
            choices=DUPLICATE_CHOICES,
            default="skip",
            help="what to do with a person whose email or phone is already known (default: skip)",
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help='map a column to a field, e.g. --map "Work email=emails"; FIELD "-" ignores the column',
        )
        parser.add_argument("--as", dest="as_email", metavar="EMAIL", help="import as this team member")
        parser.add_argument("--report", metavar="FILE", help="write every error and skipped row to this CSV file")
        parser.add_argument("--batch", type=int, default=1000, help="rows per transaction (default: 1000)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            source = read_csv(path)
        except ApplicationError as exc:
            raise CommandError(f"{path}: {exc.message}")
        mapping = self._mapping(source.headers, options["map"])
        actor = self._actor(options["as_email"])
        self._print_mapping(source.headers, mapping)
        try:
            job = import_job_create(actor=actor, upload=path, mapping=mapping, on_duplicate=options["on_duplicate"])
        except ApplicationError as exc:
            raise CommandError(exc.message)

        started = time.monotonic()
        job = import_job_run(job=job, progress_every=options["batch"], on_progress=lambda j: self._bar(j, started))
        while job.status in (ImportStatus.PENDING, ImportStatus.RUNNING):
            # The embedded worker of a running server claimed it first: follow its progress instead.
            time.sleep(0.5)
            job = ImportJob.objects.get(pk=job.pk)
            self._bar(job, started)
        self.stderr.write("")
        self._summary(job, time.monotonic() - started)
        if options["report"] and job.errors:
            Path(options["report"]).write_text("".join(import_error_report_lines(job=job)), encoding="utf-8")
            self.stdout.write(f"Full report: {options['report']}")
        if job.status == ImportStatus.FAILED:
            raise CommandError(job.errors[-1]["message"] if job.errors else "The import failed.")

    def _mapping(self, headers: list[str], overrides: list[str]) -> dict[str, str]:
        mapping = suggest_mapping(headers)
        known = {f.key for f in import_fields()}
        lowered = [h.lower() for h in headers]
        for item in overrides:
            header, sep, field = item.partition("=")
            header, field = header.strip(), field.strip()
            if not sep or not header:
                raise CommandError(f"--map {item!r}: write it as HEADER=FIELD, e.g. --map 'Work email=emails'.")
            if header.lower() in lowered:
                index = lowered.index(header.lower())
            elif header.isdigit() and 1 <= int(header) <= len(headers):
                index = int(header) - 1
            else:
                raise CommandError(f"--map: the file has no column {header!r}. Its columns: {', '.join(headers)}.")
            if field in ("", "-", "ignore"):
                field = ""
            elif field not in known:
                raise CommandError(f"--map: {field!r} is not a field. Fields: {', '.join(sorted(known))}.")
            mapping[str(index)] = field
        return mapping

    def _actor(self, email: str | None) -> User | None:
        if not email:
            return None
        user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
        if user is None:
            raise CommandError(f"--as: there is no active team member with the email {email}.")
        return user

    def _print_mapping(self, headers: list[str], mapping: dict[str, str]) -> None:
        width = max(len(h) for h in headers)
        for index, header in enumerate(headers):
            target = mapping.get(str(index)) or "(not imported)"
            self.stdout.write(f"  {header.ljust(width)}  →  {target}")

    def _bar(self, job: ImportJob, started: float) -> None:
        total = job.total_rows or 1
        done = min(job.processed_rows, total)
        filled = int(BAR_WIDTH * done / total)
        elapsed = max(time.monotonic() - started, 1e-6)
        line = (
            f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {100 * done // total:3d}% "
            f"{done:,}/{job.total_rows:,} rows  {done / elapsed:,.0f} rows/s"
        )
        self.stderr.write(line, ending="")
        self.stderr.flush()

    def _summary(self, job: ImportJob, elapsed: float) -> None:
        rate = job.processed_rows / elapsed if elapsed else 0
        self.stdout.write(
            f"{job.original_name}: {job.created_count:,} created, {job.merged_count:,} merged, "
            f"{job.skipped_count:,} skipped, {job.error_count:,} with errors "
            f"({job.processed_rows:,} rows in {elapsed:.1f} s, {rate:,.0f} rows/s)."
        )
        errors = [issue for issue in job.errors if issue.get("kind", "error") == "error"]
        for issue in errors[:ERRORS_PRINTED]:
            where = f"row {issue['row']}" if issue.get("row") else "file"
            column = issue.get("column") or issue.get("field") or ""
            self.stdout.write(f"  {where}{', ' + column if column else ''}: {issue['message']}")
        if len(errors) > ERRORS_PRINTED:
            self.stdout.write(f"  … and {len(errors) - ERRORS_PRINTED:,} more (use --report FILE to get them all).")
