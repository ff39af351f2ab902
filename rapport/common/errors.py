"""The one error type services raise; the API and the UI each translate it in a single place."""

from typing import Any


class ApplicationError(Exception):
    code = "error"
    status = 400

    def __init__(
        self, message: str, *, fields: dict[str, list[str]] | None = None, extra: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        body.update(self.extra)
        return {"error": body}


class BadRequest(ApplicationError):
    code = "bad_request"
    status = 400


class ValidationFailed(ApplicationError):
    code = "validation_error"
    status = 422

    @classmethod
    def single(cls, field: str, message: str) -> "ValidationFailed":
        return cls(message, fields={field: [message]})


class PermissionDenied(ApplicationError):
    code = "forbidden"
    status = 403

    def __init__(self, message: str = "Your role does not allow this.", **kwargs: Any):
        super().__init__(message, **kwargs)


class NotFound(ApplicationError):
    code = "not_found"
    status = 404

    def __init__(self, message: str = "Not found.", **kwargs: Any):
        super().__init__(message, **kwargs)


class Conflict(ApplicationError):
    code = "conflict"
    status = 409


class Duplicate(Conflict):
    code = "duplicate"

    def __init__(self, message: str, *, existing_id: int | str, fields: dict[str, list[str]] | None = None):
        super().__init__(message, fields=fields, extra={"existing_id": str(existing_id)})
        self.existing_id = str(existing_id)


class FieldErrors:
    """Collects field errors so a form or request gets every problem at once, not one per round trip."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def capture(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        """Call `func`; a ValidationFailed it raises is collected (and None returned) instead of stopping here."""
        try:
            return func(*args, **kwargs)
        except ValidationFailed as exc:
            for field, messages in exc.fields.items():
                self.fields.setdefault(field, []).extend(messages)
            return None

    def raise_if_any(self) -> None:
        if self.fields:
            field, messages = next(iter(self.fields.items()))
            raise ValidationFailed(f"Please check {field.replace('_', ' ')}: {messages[0]}", fields=self.fields)
