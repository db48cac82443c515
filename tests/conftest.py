"""Shared fixtures: ticket databases on SQLite (a file in tmp_path) and on the local PostgreSQL.

PostgreSQL: `TEST_POSTGRES_URL` (default postgresql://postgres@127.0.0.1:5432/test). Each test
gets its own fresh schema (dropped afterwards) through the connection's search_path, so tests
never see each other's rows; tests skip with the reason when the server is not reachable.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from domain_support import DOMAIN, rasa_domain
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from civic.city import load_city
from civic.db import create_engine_for, make_session_factory, migrate
from civic.tickets import TicketRepository

ROOT = Path(__file__).resolve().parent.parent

# Modules that open the default ticket database (the actions) get a throw-away one, never the
# developer's tickets.db.
os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='nagar-tests-')}/tickets.db"

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The test PostgreSQL server's URL, or skip when it cannot be reached."""
    engine = create_engine(POSTGRES_URL, future=True, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0]
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {reason}")
    finally:
        engine.dispose()
    return POSTGRES_URL


def postgres_url_with_schema(base_url: str, schema: str, extra_options: str = "") -> str:
    separator = "&" if "?" in base_url else "?"
    options = f"-csearch_path={schema} {extra_options}".strip().replace(" ", "%20")
    return f"{base_url}{separator}options={options.replace('=', '%3D')}"


@pytest.fixture
def postgres_schema(postgres_server_url):
    """A fresh, empty schema in the test database; dropped after the test."""
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(postgres_server_url, future=True)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield schema
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def postgres_url_factory(postgres_server_url, postgres_schema):
    """make(extra_options="") -> a URL into the fresh schema, with extra `-c` server settings."""
    return lambda extra_options="": postgres_url_with_schema(
        postgres_server_url, postgres_schema, extra_options)


@pytest.fixture
def postgres_url(postgres_url_factory) -> str:
    """A URL whose connections work inside a fresh schema (no tables yet)."""
    return postgres_url_factory()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A URL for a new SQLite file (no tables yet)."""
    return f"sqlite:///{tmp_path / 'tickets.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request) -> str:
    """An empty database on each backend in turn."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory) -> Path:
    """A SQLite ticket database at the head migration, made once per session."""
    path = tmp_path_factory.mktemp("migrated") / "tickets.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def migrated_url(request, db_url) -> str:
    """db_url at the head migration. SQLite: a copy of a file migrated once (alembic takes
    ~0.1 s a run, which mutation testing pays per test per mutant); PostgreSQL: migrated."""
    if db_url.startswith("sqlite:///"):
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), db_url[len("sqlite:///"):])
    else:
        migrate(db_url)
    return db_url


@pytest.fixture
def engine(migrated_url):
    engine = create_engine_for(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def domain():
    """The assistant's domain as Rasa loads it (rasa.shared.core.domain.Domain)."""
    return rasa_domain()


@pytest.fixture(scope="session")
def domain_dict():
    """The files of domain/ merged into one dict, as Rasa merges them."""
    return DOMAIN


@pytest.fixture
def city():
    return load_city(ROOT / "city.yml")


@pytest.fixture
def repo(engine, city) -> TicketRepository:
    """A ticket repository on a migrated, empty database (SQLite and PostgreSQL)."""
    return TicketRepository(make_session_factory(engine), city=city)


# Rasa graph components (NLU components, policies) are created and loaded through these.
@pytest.fixture
def storage(tmp_path):
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    (tmp_path / "storage").mkdir()
    return LocalModelStorage(tmp_path / "storage")


@pytest.fixture
def context():
    from rasa.engine.graph import ExecutionContext, GraphSchema

    return ExecutionContext(GraphSchema({}), "test-model", node_name="test-node")
