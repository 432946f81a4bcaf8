from django.apps import AppConfig

from bank.navigation import MemberPage


class TrustConfig(AppConfig):
    name = "trust"
    verbose_name = "Trust money"
    member_pages = (
        MemberPage("Balance", "trust:overview"),
        MemberPage("Pay", "trust:pay"),
        MemberPage("Payments", "trust:payments", current_on=("trust:payment*",)),
        MemberPage("Trustlines", "trust:trustlines", current_on=("trust:trustline*",)),
    )
    home_actions = (
        MemberPage("My balance", "trust:overview"),
        MemberPage("Pay", "trust:pay"),
        MemberPage("Trustlines", "trust:trustlines"),
    )

    def ready(self) -> None:
        from bank.signals import member_joined
        from trust.handlers import open_account

        member_joined.connect(open_account, dispatch_uid="trust.open_account")
