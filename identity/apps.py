from django.apps import AppConfig

from bank.navigation import MemberPage


class IdentityConfig(AppConfig):
    name = "identity"
    member_pages = (MemberPage("Identity", "identity:page", current_on=("identity:*",)),)

    def ready(self) -> None:
        from bank import signals
        from identity import handlers

        signals.access_requested.connect(handlers.refuse_revoked, dispatch_uid="identity.refuse_revoked")
        signals.password_checked.connect(handlers.open_at_sign_in, dispatch_uid="identity.open_at_sign_in")
        signals.password_changed.connect(handlers.reseal_on_password_change, dispatch_uid="identity.reseal")
        signals.password_reset.connect(handlers.recover_on_password_reset, dispatch_uid="identity.recover")
