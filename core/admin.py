from django.contrib import admin

from core.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "seller", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "key_prefix", "seller__name"]
    readonly_fields = ["key_prefix", "key_hash", "created_at", "last_used_at"]
    list_select_related = ["seller"]

    def has_add_permission(self, request):
        # Keys are created with `manage.py api_token` so the clear key is shown exactly once.
        return False
