from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "trust"
    verbose_name = "Trust money"

    def ready(self) -> None:
        from bank.signals import member_joined
        from trust.handlers import open_account

        member_joined.connect(open_account, dispatch_uid="trust.open_account")
