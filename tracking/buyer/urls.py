from django.urls import path

from tracking.buyer import views

urlpatterns = [
    # Buyer tracking pages (public: the token is the key). tracking/links.py builds these URLs.
    path("t/<str:token>/", views.order_page, name="tracking-order"),
    path("t/<str:token>/live/", views.order_live, name="tracking-order-live"),
    path("t/s/<str:token>/", views.shipment_page, name="tracking-shipment"),
    path("t/s/<str:token>/live/", views.shipment_live, name="tracking-shipment-live"),
    path("track/", views.lookup, name="tracking-lookup"),
    path("track/language/", views.language_choose, name="tracking-language"),
]
