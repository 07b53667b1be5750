"""django-q2 entry points of the privacy app: thin, they call one service."""

from privacy.services import retention_apply


def apply_retention() -> dict[str, int]:
    return retention_apply()
