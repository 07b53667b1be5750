"""URLconf of the tracking-page benchmark's server: the product's URLs and a minimal view."""

from django.http import HttpResponse
from django.urls import include, path


def minimal_view(request):
    """The floor: Django's request/response cycle and middleware, no query, no template."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/ok/", minimal_view),
    path("", include("config.urls")),
]
