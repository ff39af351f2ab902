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
