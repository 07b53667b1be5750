from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.views import healthz, readyz

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("readyz/", readyz, name="readyz"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("returns.urls")),  # before the buyer's /t/<token>/ pages
    path("", include("tracking.buyer.urls")),
    path("", include("tracking.urls")),
    path("", include("cs.urls")),
    path("", include("sellers.urls")),
    path("", include("payouts.urls")),
    path("", include("notifications.urls")),
    path("api/v1/", include("tracking.api.urls")),
    path("api/v1/", include("cs.api.urls")),
    path("api/v1/", include("sellers.api.urls")),
    path("api/v1/", include("returns.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script from a URL: no inline script, so the CSP holds.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
