from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "federation"

    def ready(self) -> None:
        from federation.counterparts import RemoteCounterparts, tell_remote_instance
        from trust import federated
        from trust.signals import remote_line_changed

        federated.register(RemoteCounterparts())
        remote_line_changed.connect(tell_remote_instance, dispatch_uid="federation.tell_remote_instance")
