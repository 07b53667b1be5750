"""The staff roles (Django groups) that the data migrations create.

A transactional test (``live_server``, the browser tests) flushes the database when it ends, and
the groups go with it, while the permissions come back with the flush's post_migrate. So a test
that needs a role asks ``role_group()``, which puts the group back from the very definitions the
migrations hold instead of restating them.
"""

from importlib import import_module

from django.contrib.auth.models import Group, Permission

_cs = import_module("tracking.migrations.0005_cs_agent_group")
_finance = import_module("payouts.migrations.0002_append_only_and_finance_groups")

ROLES: dict[str, list[tuple[str, str]]] = {_cs.GROUP: _cs.CS_PERMISSIONS, **_finance.GROUPS}


def role_group(name: str) -> Group:
    """The group of the role ``name``, created with its permissions when a flush removed it."""
    group, created = Group.objects.get_or_create(name=name)
    if created:
        for app_label, codename in ROLES[name]:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    return group
