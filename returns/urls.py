from django.urls import path

import core.converters  # noqa: F401 - registers the <id:…> converter
from returns import views

app_name = "returns"

urlpatterns = [
    path("seller/returns/", views.return_list, name="seller-list"),
    path("seller/returns/policy/", views.policy_edit, name="policy"),
    path("seller/returns/stats/", views.return_stats, name="stats"),
    path("seller/returns/<id:return_id>/", views.return_detail, name="seller-detail"),
    path(
        "seller/returns/<id:return_id>/photos/<id:photo_id>/", views.return_photo, name="photo"
    ),  # fmt: skip
    path("seller/returns/<id:return_id>/accept/", views.return_accept, name="accept"),
    path("seller/returns/<id:return_id>/refuse/", views.return_refuse, name="refuse"),
    path("seller/returns/<id:return_id>/tracking/", views.return_tracking, name="tracking"),
    path(
        "seller/returns/<id:return_id>/received/", views.return_mark_received, name="received"
    ),  # fmt: skip
    # The buyer's, from the order page or a parcel page (the token is the key).
    path("t/<str:token>/return/", views.buyer_return, name="buyer"),
    path("t/s/<str:token>/return/", views.buyer_return, name="buyer-parcel"),
]
