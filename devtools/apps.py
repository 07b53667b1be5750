from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Installed only with DEBUG (see config/settings.py), for seed_demo and devstack."""

    name = "devtools"
    verbose_name = "Development tools"
