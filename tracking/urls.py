from django.urls import path

from tracking import webhooks

app_name = "tracking"

urlpatterns = [
    path("webhooks/couriers/<slug:carrier>/", webhooks.carrier_push, name="carrier-push"),
]
