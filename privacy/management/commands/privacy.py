"""Data-protection operators' commands. JSON on stdout, exit 0; a one-line error on stderr and
exit 1 for bad input (neither or both of --email/--order, no such buyer).

    manage.py privacy export --email helene.lefevre@orange.fr   a buyer's data (right of access)
    manage.py privacy erase --order MAI-20261104-0007 --actor dpo
                                                 erase a buyer's personal data (right to erasure)
    manage.py privacy retention                  apply the retention policy once, now

--actor names the staff user who asked (the audit trail's actor); without it: "system".
"""

import json
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from core.errors import ApplicationError
from privacy import services


class Command(BaseCommand):
    help = "Buyers' personal data: export, erase, apply the retention policy."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in [
            ("export", "Print everything held about one buyer, as JSON."),
            ("erase", "Erase one buyer's personal data everywhere (ledger and audit kept)."),
        ]:
            cmd = sub.add_parser(name, help=text)
            cmd.add_argument("--email", default="")
            cmd.add_argument("--order", default="", help="An order reference of the buyer.")
            cmd.add_argument("--actor", default="", help="Username of the staff member asking.")
        sub.add_parser("retention", help="Apply PRIVACY_RETENTION_DAYS now.")

    def handle(self, *args, action: str, **options):
        if action == "retention":
            self.stdout.write(json.dumps(services.retention_apply()))
            return
        try:
            actor = self._actor(options["actor"])
            if action == "export":
                data = services.buyer_data_export(
                    actor=actor, email=options["email"], order_reference=options["order"]
                )
                self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            else:
                audit = services.buyer_data_erase(
                    actor=actor, email=options["email"], order_reference=options["order"]
                )
                self.stdout.write(json.dumps({"erased": audit.counts, "audit_id": audit.pk}))
        except ApplicationError as exc:
            sys.stderr.write(f"error: {exc.message}\n")
            sys.exit(1)

    @staticmethod
    def _actor(username: str):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise ApplicationError(f"No user {username!r}.")
        return user
