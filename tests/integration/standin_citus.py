"""A stand-in for Citus on the plain PostgreSQL test target (Citus cannot be installed here).

``install(target_db)`` defines, as the superuser, in the target database:

- ``create_distributed_table(regclass, text, colocate_with text DEFAULT 'default')`` and
  ``create_reference_table(regclass)`` with the comment ``STANDIN_COMMENT``, which is what makes
  ``core.citus.detect_citus`` take the database for a (stand-in) Citus. Like Citus, the first
  refuses a PRIMARY KEY or UNIQUE without the distribution column, with Citus's own words from
  ``CITUS_MESSAGES``. Both record the call and how many rows the table held.
- an event trigger that records every CREATE TABLE and ALTER TABLE in ``public`` (for ALTER
  TABLE, with every sequence's last value at that moment), and puts a statement-level AFTER INSERT
  trigger on each new table, which records each COPY into it.

Everything goes to ``standin.log`` with a sequence number, so a test reads the statement order.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from coursemig_gui.core.citus.detection import STANDIN_COMMENT
from coursemig_gui.core.citus.messages import CITUS_MESSAGES

_SETUP = """
CREATE SCHEMA standin;
GRANT USAGE ON SCHEMA standin TO PUBLIC;
CREATE TABLE standin.log (
    seq bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    event text NOT NULL,
    object text,
    detail text
);
CREATE FUNCTION standin.note(event text, object text, detail text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ INSERT INTO standin.log (event, object, detail) VALUES (event, object, detail) $$;

CREATE FUNCTION standin.on_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ BEGIN
    PERFORM standin.note('COPY', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, NULL);
    RETURN NULL;
END $$;

CREATE FUNCTION standin.on_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    seqs text;
BEGIN
    FOR r IN SELECT * FROM pg_event_trigger_ddl_commands()
             WHERE schema_name = 'public' AND object_type = 'table' LOOP
        IF r.command_tag = 'CREATE TABLE' THEN
            PERFORM standin.note('CREATE TABLE', r.object_identity, NULL);
            EXECUTE format('CREATE TRIGGER standin_copy AFTER INSERT ON %s '
                           'FOR EACH STATEMENT EXECUTE FUNCTION standin.on_insert()',
                           r.object_identity);
        ELSIF r.command_tag = 'ALTER TABLE' THEN
            SELECT string_agg(s.sequencename || '=' || coalesce(s.last_value::text, 'unset'),
                              ' ' ORDER BY s.sequencename)
              INTO seqs FROM pg_sequences s WHERE s.schemaname = 'public';
            PERFORM standin.note('ALTER TABLE', r.object_identity, seqs);
        END IF;
    END LOOP;
END $$;
CREATE EVENT TRIGGER standin_ddl ON ddl_command_end EXECUTE FUNCTION standin.on_ddl();

CREATE FUNCTION public.create_reference_table(table_name regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %s', table_name) INTO n;
    PERFORM standin.note('create_reference_table', table_name::text, format('rows=%s', n));
END $$;
"""

_DISTRIBUTE = """
CREATE FUNCTION public.create_distributed_table(
    table_name regclass, distribution_column text, colocate_with text DEFAULT 'default'
) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = table_name
                   AND attname = distribution_column AND attnum > 0 AND NOT attisdropped) THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', distribution_column, table_name;
    END IF;
    -- like Citus: every PRIMARY KEY and UNIQUE must include the distribution column
    IF EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = table_name
               AND c.contype IN ('p', 'u')
               AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = table_name
                               AND a.attname = distribution_column
                               AND a.attnum = ANY (c.conkey))) THEN
        RAISE EXCEPTION USING ERRCODE = {state},
                              MESSAGE = format({message}, (SELECT relname FROM pg_class WHERE oid = table_name)),
                              DETAIL = {detail};
    END IF;
    EXECUTE format('SELECT count(*) FROM %s', table_name) INTO n;
    PERFORM standin.note('create_distributed_table', table_name::text,
                         format('column=%s colocate_with=%s rows=%s',
                                distribution_column, colocate_with, n));
END $$;
"""


def install(target_db) -> None:
    """Define the stand-in Citus functions and the statement log in the test target."""
    refusal = CITUS_MESSAGES["constraint_without_distribution_column"]
    distribute = sql.SQL(_DISTRIBUTE).format(
        state=sql.Literal(refusal.sqlstate),
        message=sql.Literal(refusal.message.replace("{table}", "%s")),
        detail=sql.Literal(refusal.detail),
    )
    with target_db.admin_connect() as conn:
        conn.execute(_SETUP)
        conn.execute(distribute)
        for signature in (
            "create_distributed_table(regclass, text, text)",
            "create_reference_table(regclass)",
        ):
            conn.execute(
                sql.SQL("COMMENT ON FUNCTION public.{} IS {}").format(
                    sql.SQL(signature), sql.Literal(STANDIN_COMMENT)
                )
            )


@dataclass(frozen=True)
class Entry:
    seq: int
    event: str
    table: str  # without the "public." prefix
    detail: str | None


def read_log(target_db) -> list[Entry]:
    rows = target_db.rows("SELECT seq, event, object, detail FROM standin.log ORDER BY seq")
    return [
        Entry(seq, event, (obj or "").removeprefix("public."), detail)
        for seq, event, obj, detail in rows
    ]


def clear_log(target_db) -> None:
    with target_db.admin_connect() as conn:
        conn.execute("TRUNCATE standin.log")
