import factory

from sellers.models import Order, Seller, SellerMember


class SellerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seller

    name = factory.Sequence(lambda n: f"Boutique {n}")
    slug = factory.Sequence(lambda n: f"boutique-{n}")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    seller = factory.SubFactory(SellerFactory)
    reference = factory.Sequence(lambda n: f"CMD-{n:06d}")
    buyer_name = "Camille Martin"
    buyer_email = factory.Sequence(lambda n: f"buyer{n}@example.fr")
    buyer_locale = "fr"
    destination_postcode = "69003"
    destination_country = "FR"
    total_amount = 4990
    currency = "EUR"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "auth.User"

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-battery")


class SellerMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SellerMember

    user = factory.SubFactory(UserFactory)
    seller = factory.SubFactory(SellerFactory)
