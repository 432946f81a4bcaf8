from django.apps import AppConfig

from bank.navigation import MemberPage


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Ledger"
    member_pages = (MemberPage("Receipts", "ledger:receipts"),)

    def ready(self) -> None:
        from bank.signals import member_joined
        from ledger.handlers import give_signing_key
        from ledger.services.append import record_payments
        from trust.signals import money_moved

        money_moved.connect(record_payments, dispatch_uid="ledger.record_payments")
        member_joined.connect(give_signing_key, dispatch_uid="ledger.give_signing_key")
