"""`rapport create_token <email> [--name NAME]`: print a new personal API token, once."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.accounts.models import User
from rapport.accounts.services import api_token_create
from rapport.common.errors import ValidationFailed


class Command(BaseCommand):
    help = "Create a personal API token for a user and print it. Only its hash is stored: copy it now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The user's email address.")
        parser.add_argument("--name", default="Command line", help="What the token is for (default: Command line).")

    def handle(self, *args: Any, email: str, name: str, **options: Any) -> None:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"There is no user with the email {email!r}.")
        try:
            token, raw = api_token_create(user=user, name=name)
        except ValidationFailed as exc:
            raise CommandError(exc.message)
        # The token alone on stdout, so scripts can capture it; the explanation goes to stderr.
        self.stderr.write(
            f"API token {token.name!r} for {user.email} ({user.get_role_display()}). "
            "It is shown only this once; send it as: Authorization: Bearer <token>"
        )
        self.stdout.write(raw)
