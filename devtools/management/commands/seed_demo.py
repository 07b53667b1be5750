from django.core.management.base import BaseCommand

from devtools.demo.marketplace import seed_demo


class Command(BaseCommand):
    help = "Seed the demo marketplace (idempotent: running it twice creates nothing more)."

    def handle(self, *args, **options):
        counts = seed_demo()
        self.stdout.write(
            f"Demo ready: {counts['sellers']} sellers, {counts['shipments_created']} new shipments."
        )
