from django.contrib.auth import views as auth_views
from django.urls import path

import core.converters  # noqa: F401 - registers the <id:…> converter
from sellers import views

app_name = "sellers"

urlpatterns = [
    path("seller/", views.portal_home, name="portal"),
    path("seller/branding/", views.branding_edit, name="branding"),
    path("seller/notifications/", views.notifications_edit, name="notifications"),
    path(
        "seller/login/",
        auth_views.LoginView.as_view(template_name="sellers/login.html"),
        name="login",
    ),
    path(
        "seller/logout/", auth_views.LogoutView.as_view(next_page="sellers:login"), name="logout"
    ),  # fmt: skip
]

urlpatterns += [
    path("seller/performance/", views.performance, name="performance"),
    path("seller/sla/", views.sla, name="sla"),
    path("seller/sla/<slug:metric>/", views.sla_drilldown, name="sla-drilldown"),
    path("seller/protection/", views.protection, name="protection"),
    path("seller/recommendations/", views.recommendations, name="recommendations"),
    path("marketplace/sla/", views.marketplace_sla, name="marketplace-sla"),
]
urlpatterns += [
    path("seller/upload/", views.upload, name="upload"),
    path("seller/upload/<id:upload_id>/", views.upload_detail, name="upload-detail"),
]
