from django.urls import path

from tracking.buyer import views

app_name = "buyer"

urlpatterns = [
    # Buyer tracking pages (public: the token is the key). tracking/links.py builds these URLs.
    path("t/<str:token>/", views.order_page, name="order"),
    path("t/<str:token>/live/", views.order_live, name="order-live"),
    path("t/s/<str:token>/", views.shipment_page, name="shipment"),
    path("t/s/<str:token>/live/", views.shipment_live, name="shipment-live"),
    path("track/", views.lookup, name="lookup"),
    path("track/language/", views.language_choose, name="language"),
]
