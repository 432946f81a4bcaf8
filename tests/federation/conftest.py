import uuid
from urllib.parse import urlsplit

import pytest
from django.db import connection

from bench.workload.instances import Instance, admin_sql, free_port


@pytest.fixture(scope="session")
def peer_template(tmp_path_factory) -> str:
    """A migrated database that each other instance's database is cloned from."""
    name = f"trustbank_peers_{uuid.uuid4().hex[:8]}"
    admin_sql(f'CREATE DATABASE "{name}"')
    template = Instance("template", name, "00" * 32, free_port(), "template.test", tmp_path_factory.mktemp("peers"))
    migrated = template.manage("migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    yield name
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def here(transactional_db, live_server, settings, tmp_path) -> Instance:
    """The test's own instance: its database, the live server, and a listener it starts when it wants one."""
    port = urlsplit(live_server.url).port
    instance = Instance(
        "here", connection.settings_dict["NAME"], settings.SERVER_KEY.hex(), port, settings.INSTANCE_DOMAIN, tmp_path
    )
    settings.INSTANCE_URL = instance.url
    settings.PEER_WS_PORT, settings.PEER_UDP_PORT = instance.ws_port, instance.udp_port
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, instance.web_host]
    yield instance
    instance.stop()


@pytest.fixture
def instances(peer_template, tmp_path):
    """``make(name, domain, **settings)``: another instance with its web server and listener running."""
    made: list[Instance] = []

    def make(name: str, domain: str, **settings: str) -> Instance:
        database = f"{peer_template}_{name}"
        admin_sql(f'CREATE DATABASE "{database}" TEMPLATE "{peer_template}"')
        instance = Instance(name, database, uuid.uuid4().hex * 2, free_port(), domain, tmp_path, settings=settings)
        made.append(instance)
        instance.start_web()
        instance.start_peer()
        return instance

    yield make
    for instance in made:
        instance.stop()
        admin_sql(f'DROP DATABASE IF EXISTS "{instance.database}" WITH (FORCE)')
