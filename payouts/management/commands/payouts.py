"""Finance operators' commands. JSON on stdout; exit 0 when sound, 1 with a one-line error on
stderr otherwise.

    manage.py payouts check_ledger   every entry balances, balances sum to zero, every released
                                     payout has its entries
    manage.py payouts release_due    run the auto-release job once, now
"""

import json
import sys

from django.core.management.base import BaseCommand

from payouts import services


class Command(BaseCommand):
    help = "Finance tools: check the ledger, run the auto-release now."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("check_ledger", help="Prove the escrow ledger balances.")
        sub.add_parser("release_due", help="Release every payout whose gate is open, now.")

    def handle(self, *args, action: str, **options):
        if action == "check_ledger":
            try:
                report = services.ledger_check()
            except services.LedgerUnbalanced as exc:
                sys.stderr.write(f"error: ledger check failed: {exc.message}\n")
                sys.exit(1)
            self.stdout.write(report.as_json())
        else:
            self.stdout.write(json.dumps({"released": services.payouts_release_due()}))
