"""Finding the instance behind a federated host, and whether an account exists there."""

from core.errors import ApplicationError
from federation import peers
from federation.errors import RemoteNotFound
from federation.models import Remote
from federation.selectors import remote_serving
from federation.services.remotes import remote_add


def instance_for_host(host: str) -> Remote:
    """The remote serving ``host``: from the known remotes' documents, else from ``host``'s own document
    (added as a remote when it lists ``host``); raises ``server_not_found``."""
    remote = remote_serving(host)
    if remote is not None:
        return remote
    try:
        remote_add(address=host)
    except ApplicationError as exc:
        raise RemoteNotFound(f"No instance answers for {host}: {exc.message}", code="server_not_found") from exc
    remote = remote_serving(host)
    if remote is None:
        raise RemoteNotFound(f"The instance at {host} does not serve {host}.", code="server_not_found")
    return remote


def account_confirmed(*, remote: Remote, address: str) -> None:
    """Ask ``remote`` whether ``address`` is one of its members; raises ``account_not_found``."""
    if not peers.account_exists(remote.ws_endpoint, address):
        raise RemoteNotFound(f"There is no account {address} on {remote.address}.", code="account_not_found")
