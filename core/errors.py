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
