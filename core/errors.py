"""One error family for business rules. APIs turn it into a 400 with a machine-readable code."""


class ApplicationError(Exception):
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field


class NotFound(ApplicationError):
    code = "not_found"


class PermissionDenied(ApplicationError):
    code = "permission_denied"


class Conflict(ApplicationError):
    """The request clashes with one still being handled (409)."""

    code = "conflict"


class Unprocessable(ApplicationError):
    """Well-formed, but it cannot be done as asked (422)."""

    code = "unprocessable"
