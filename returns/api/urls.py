from django.urls import path

import core.converters  # noqa: F401 - registers the <id:…> converter
from returns.api import views

app_name = "returns-api"

urlpatterns = [
    path("returns/", views.ReturnListApi.as_view(), name="returns"),
    path("returns/<id:return_id>/", views.ReturnDetailApi.as_view(), name="return-detail"),
    path("returns/<id:return_id>/accept/", views.ReturnAcceptApi.as_view(), name="accept"),
    path("returns/<id:return_id>/refuse/", views.ReturnRefuseApi.as_view(), name="refuse"),
    path("returns/<id:return_id>/received/", views.ReturnReceivedApi.as_view(), name="received"),
]
