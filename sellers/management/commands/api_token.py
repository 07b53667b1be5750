from django.core.management.base import BaseCommand, CommandError

from core.services import api_token_create
from sellers.models import Seller


class Command(BaseCommand):
    help = "Create an API token (seller-scoped with --seller, marketplace-wide otherwise)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--seller", help="Seller slug; omit for a marketplace token.")

    def handle(self, *args, name: str, seller: str | None, **options):
        owner = None
        if seller:
            owner = Seller.objects.filter(slug=seller).first()
            if owner is None:
                raise CommandError(f"no seller with slug {seller!r}")
        token, key = api_token_create(name=name, seller=owner)
        scope = owner.name if owner else "marketplace"
        self.stdout.write(f"{key}\n")
        self.stderr.write(f"Token {token.key_prefix}… for {scope}: the key is shown only once.\n")
