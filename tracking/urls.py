from django.urls import path

from tracking import views, webhooks

app_name = "tracking"

urlpatterns = [
    path("webhooks/couriers/<slug:carrier>/", webhooks.carrier_push, name="carrier-push"),
    # The courier's proof document of a POD; the token is PodEvidence.access_token (random).
    path("pod/evidence/<slug:token>/", views.pod_evidence_file, name="pod-evidence"),
]
