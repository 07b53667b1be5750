from django.urls import include, path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("webhooks/sms/twilio/status/", views.twilio_status, name="twilio-status"),
    # anymail's tracking webhooks: /anymail/<esp>/tracking/ (basic auth: ANYMAIL_WEBHOOK_SECRET)
    path("anymail/", include("anymail.urls")),
]
