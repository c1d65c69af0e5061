"""Database: the DSN from the compose environment, cell texts, row comparison, and (with a database
given by CRUCIBLE_TEST_POSTGRES_DSN, else the reference stack's) read-only queries for real."""

import os
from pathlib import Path
from datetime import datetime, timezone
from decimal import Decimal
from types import SimpleNamespace
from uuid import UUID

import pytest

from crucible.vocabulary import database
from crucible import errors, settings
from crucible.vocabulary.database import Rows, as_text, expect_rows, safe_dsn, service_dsn

POSTGRES_DSN = os.environ.get("CRUCIBLE_TEST_POSTGRES_DSN")


OPTIONS = settings.load(start=Path("/nonexistent"), environ={})


def fake_stack(environment: dict, db_env: dict | None = None):
    """Just enough of a Stack: the compose services and the published URL of the database service."""
    services = {"inventory": SimpleNamespace(environment=environment, image="crucible/inventory"),
                "postgres": SimpleNamespace(environment=db_env or {}, image="crucible/postgres")}
    project = SimpleNamespace(path="docker/compose.yaml", services=services)

    def url(service, port):
        assert (service, port) == ("postgres", 5432)
        return "postgresql://127.0.0.1:32832"
    return SimpleNamespace(project=project, url=url)


def test_dsn_points_at_the_published_port_of_the_database_service():
    stack = fake_stack({"DATABASE_URL": "postgresql://inventory:inventory_pw@postgres:5432/inventory"})
    assert service_dsn(stack, OPTIONS, "inventory") == "postgresql://inventory:inventory_pw@127.0.0.1:32832/inventory"


def test_dsn_accepts_postgres_scheme_and_driver_suffix_and_default_port():
    stack = fake_stack({"DATABASE_URL": "postgres+psycopg2://u:p@postgres/db?sslmode=disable"})
    assert service_dsn(stack, OPTIONS, "inventory") == "postgresql://u:p@127.0.0.1:32832/db?sslmode=disable"


def test_a_service_without_database_url_is_named():
    with pytest.raises(errors.TestDataError, match=r"database of service 'inventory' is unknown.*\[databases.inventory\]"):
        service_dsn(fake_stack({}), OPTIONS, "inventory")
    with pytest.raises(errors.ServiceNotFound, match="no service 'payments'"):
        service_dsn(fake_stack({}), OPTIONS, "payments")
    with pytest.raises(errors.TestDataError, match=r"is a mysql:// URL \(mysql://u:\*\*\*@db/x\), .*PostgreSQL only "
                                                 r"\(MySQL is not supported yet\)"):
        service_dsn(fake_stack({"DATABASE_URL": "mysql://u:secret@db/x"}), OPTIONS, "inventory")
    with pytest.raises(errors.TestDataError, match=r"not a postgresql://.*oops://u:\*\*\*@db/x"):
        service_dsn(fake_stack({"DATABASE_URL": "oops://u:secret@db/x"}), OPTIONS, "inventory")
    with pytest.raises(errors.TestDataError, match=r"host 'elsewhere', which is not a service"):
        service_dsn(fake_stack({"DATABASE_URL": "postgresql://u:secret@elsewhere/x"}), OPTIONS, "inventory")


def test_a_postgres_service_is_queried_with_its_standard_variables():
    stack = fake_stack({}, {"POSTGRES_USER": "app", "POSTGRES_PASSWORD": "pw", "POSTGRES_DB": "shop"})
    assert service_dsn(stack, OPTIONS, "postgres") == "postgresql://app:pw@127.0.0.1:32832/shop"


def test_the_settings_name_a_service_database():
    stack = fake_stack({}, {"POSTGRES_PASSWORD": "pw"})
    by_service = settings.load(start=Path("/nonexistent"), environ={},
                               userdata={"databases.inventory.service": "postgres"})
    assert service_dsn(stack, by_service, "inventory") == "postgresql://postgres:pw@127.0.0.1:32832/postgres"
    by_dsn = settings.load(start=Path("/nonexistent"), environ={},
                           userdata={"databases.inventory.dsn": "postgresql://a:b@postgres:5432/x"})
    assert service_dsn(stack, by_dsn, "inventory") == "postgresql://a:b@127.0.0.1:32832/x"


def test_safe_dsn_masks_the_password():
    assert safe_dsn("postgresql://u:secret@h:1/db") == "postgresql://u:***@h:1/db"


def test_cell_texts():
    assert [as_text(v) for v in (None, True, 5, "x", {"a": 1}, [1])] == ["null", "true", "5", "x", '{"a": 1}', "[1]"]
    assert database._json_value(Decimal("2.50")) == 2.5 and database._json_value(Decimal("3")) == 3
    assert database._json_value(datetime(2030, 1, 31, tzinfo=timezone.utc)) == "2030-01-31T00:00:00+00:00"
    assert database._json_value(UUID(int=1)) == "00000000-0000-0000-0000-000000000001"


ROWS = Rows(["id", "sku", "quantity", "note"],
            [{"id": "3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e", "sku": "mug", "quantity": 3, "note": None}])


def test_rows_match_by_text_and_markers_in_the_named_columns_only():
    expect_rows(ROWS, ["sku", "quantity", "note"], [["mug", "3", "null"]], "SELECT")
    expect_rows(ROWS, ["id", "note"], [["@uuid@", "@null@"]], "SELECT")


def test_row_mismatch_names_row_column_expected_and_actual():
    with pytest.raises(AssertionError) as raised:
        expect_rows(ROWS, ["sku", "quantity"], [["mug", "5"]], "SELECT sku, quantity FROM stock")
    message = str(raised.value)
    assert "rows[0].quantity: expected 5 but was 3" in message
    assert "SELECT sku, quantity FROM stock" in message
    assert "mug | 3" in message


def test_row_count_mismatch():
    with pytest.raises(AssertionError, match="rows: expected 2 items but there are 1"):
        expect_rows(ROWS, ["sku"], [["mug"], ["pot"]], "SELECT")


def test_unknown_columns_are_a_test_data_error():
    with pytest.raises(errors.TestDataError, match="columns the query does not return: qty"):
        expect_rows(ROWS, ["qty"], [["3"]], "SELECT")


def test_no_rows():
    database.expect_no_rows(Rows(["a"], []), "SELECT")
    with pytest.raises(AssertionError, match="expected no rows"):
        database.expect_no_rows(ROWS, "SELECT")


@pytest.fixture
def dsn(request):
    """A real database: CRUCIBLE_TEST_POSTGRES_DSN, else the reference stack's inventory database."""
    return POSTGRES_DSN or database.service_dsn(request.getfixturevalue("reference_stack"), OPTIONS, "inventory")


def test_real_query_returns_columns_and_json_like_values(dsn):
    rows = database.query(dsn, "SELECT 1 AS n, 'a%' AS s, now() AS t, NULL AS z, 2.5::numeric AS d")
    assert rows.columns == ["n", "s", "t", "z", "d"]
    row = rows.rows[0]
    assert row["n"] == 1 and row["s"] == "a%" and row["z"] is None and row["d"] == 2.5
    expect_rows(rows, ["t"], [["@datetime@"]], "SELECT")


def test_real_writes_are_refused(dsn):
    with pytest.raises(errors.TestDataError, match="may only read"):
        database.query(dsn, "CREATE TABLE crucible_should_not_exist (a int)")


def test_real_bad_sql_is_a_test_data_error(dsn):
    with pytest.raises(errors.TestDataError, match="no_such_table"):
        database.query(dsn, "SELECT * FROM no_such_table", "inventory")


def test_an_unreachable_database_is_a_database_error():
    with pytest.raises(errors.DatabaseError, match=r"Cannot query the 'inventory' database at postgresql://u:\*\*\*@"):
        database.query("postgresql://u:secret@127.0.0.1:1/db", "SELECT 1", "inventory")


ASCII_DB = "crucible_sql_ascii"


@pytest.fixture
def sql_ascii_dsn(reference_stack):
    """A database made without a locale (SQL_ASCII, as Debian's default initdb makes), owned by inventory."""
    create = (f"psql -h /var/run/postgresql -U postgres -tAc \"SELECT 1 FROM pg_database WHERE datname = '{ASCII_DB}'\""
              f" | grep -q 1 || psql -h /var/run/postgresql -U postgres -c \"CREATE DATABASE {ASCII_DB} "
              f"ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0 OWNER inventory\"")
    result = reference_stack.running["postgres"].container.exec_run(["sh", "-c", create])
    assert result.exit_code == 0, result.output.decode()
    return database.service_dsn(reference_stack, OPTIONS, "inventory").rsplit("/", 1)[0] + f"/{ASCII_DB}"


def test_real_text_of_a_sql_ascii_database_compares_as_text(sql_ascii_dsn):
    sql = ("SELECT current_user AS role, 'Zoë'::text AS name, 'north'::varchar AS store, 'ab'::bytea AS raw, "
           "pg_encoding_to_char(encoding) AS encoding FROM pg_database WHERE datname = current_database()")
    rows = database.query(sql_ascii_dsn, sql, "inventory")
    assert rows.rows == [{"role": "inventory", "name": "Zoë", "store": "north", "raw": "6162",
                          "encoding": "SQL_ASCII"}]
    expect_rows(rows, ["role", "name", "store", "encoding"], [["inventory", "Zoë", "north", "SQL_ASCII"]], sql)
