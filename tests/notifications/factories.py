import factory

from notifications.models import EventType, WebhookEndpoint


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    name = factory.Sequence(lambda n: f"Endpoint {n}")
    url = "http://127.0.0.1:9/unused"
    event_types = factory.LazyFunction(lambda: [t.value for t in EventType])
    contact_email = "ops@seller.example"
