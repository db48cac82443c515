"""The ticket database goes down during submit: the citizen is told, nothing is half-written,
and "yes" after recovery registers the complaint without retyping anything."""
import re
from urllib.parse import urlsplit

import pytest

from conftest import MODEL, Chat, start_action_server, stop
from tcp_proxy import TcpProxy

NUMBER = re.compile(r"SRN-\d{6}")


@pytest.fixture
def proxied_database(postgres_url):
    """The test PostgreSQL (a fresh schema) reached through a proxy the test can cut."""
    parts = urlsplit(postgres_url)
    proxy = TcpProxy(parts.hostname, parts.port or 5432)
    url = postgres_url.replace(f"{parts.hostname}:{parts.port or 5432}", f"127.0.0.1:{proxy.port}", 1)
    yield proxy, url
    proxy.close()


def test_database_down_at_submit_keeps_everything_and_retries(proxied_database, tmp_path, event_loop_for_agent):
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    from civic.db import create_engine_for, make_session_factory
    from civic.tickets import TicketRepository

    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make train` first")
    proxy, url = proxied_database
    process, webhook = start_action_server(url, tmp_path / "actions.log")
    engine = create_engine_for(url)
    repository = TicketRepository(make_session_factory(engine))
    try:
        agent = Agent.load(str(MODEL), action_endpoint=EndpointConfig(url=webhook))
        chat = Chat(agent, event_loop_for_agent)
        chat.texts("ward 27 me sewer ka dhakkan toota hai Janakpuri me")
        summary = chat.texts("photo nahi hai")
        assert "Janakpuri" in summary

        proxy.cut()
        down = chat.texts("haan")
        assert "save nahi ho payi" in down and not NUMBER.search(down)
        assert chat.slot("ward") == "27" and chat.slot("category") == "sewer"

        proxy.restore()
        assert "Janakpuri" in chat.texts("haan")  # the summary again, nothing retyped
        done = chat.texts("haan")
        number = NUMBER.search(done).group(0)
        tickets = repository.recent_for_citizen(chat.sender_id)
        assert [t.number for t in tickets] == [number]
        assert [e.status for e in repository.history(number)] == ["registered"]
    finally:
        stop(process)
        engine.dispose()
