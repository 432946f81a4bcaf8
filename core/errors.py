"""Application errors: each carries a stable code, a sentence for a person and an HTTP status.

Services raise these; the API's exception handler and the web views turn them into responses.
Other apps subclass ``ApplicationError`` for their own codes.
"""

from typing import Any


class ApplicationError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.extra = extra


class NotFound(ApplicationError):
    status = 404
    code = "not_found"


class Conflict(ApplicationError):
    status = 409
    code = "conflict"


class Forbidden(ApplicationError):
    status = 403
    code = "forbidden"


class Unauthorized(ApplicationError):
    status = 401
    code = "not_authenticated"


class Throttled(ApplicationError):
    status = 429
    code = "throttled"

    def __init__(self, message: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.retry_after = retry_after


class InvalidInput(ApplicationError):
    """Bad input found by a service, shaped like the API's validation errors."""

    code = "invalid_input"

    def __init__(self, field: str, messages: list[str]) -> None:
        super().__init__(f"{field}: {messages[0]}", fields={field: messages})

    @classmethod
    def from_model_validation(cls, exc) -> "InvalidInput":
        """The first field a model's ``full_clean`` refused (``exc``: Django's ``ValidationError``)."""
        field, messages = next(iter(exc.message_dict.items()))
        return cls(field, messages)
