"""The demo wing, apart from the engine: throwaway local PostgreSQL servers (``localserver``),
the sample catalogue (``sample_data``, ``django_schema.sql``) and ``coursemig demo``
(``demo``). The test suite and the benchmark start their servers through it too. No Qt."""
