from django.urls import path

from tracking import webhooks

urlpatterns = [
    path("webhooks/couriers/<slug:carrier>/", webhooks.carrier_push, name="carrier-push"),
]
