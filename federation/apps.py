from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "federation"

    def ready(self) -> None:
        from federation.counterparts import RemoteCounterparts, tell_payment, tell_remote_instance
        from trust import federated
        from trust.signals import remote_line_changed, remote_payment_sent

        federated.register(RemoteCounterparts())
        remote_line_changed.connect(tell_remote_instance, dispatch_uid="federation.tell_remote_instance")
        remote_payment_sent.connect(tell_payment, dispatch_uid="federation.tell_payment")
