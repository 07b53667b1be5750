from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"

    def ready(self) -> None:
        from returns import receivers
        from tracking.signals import status_changes_recorded

        status_changes_recorded.connect(
            receivers.on_status_changes_recorded, dispatch_uid="returns-receive"
        )
