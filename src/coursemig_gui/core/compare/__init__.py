"""Row-by-row comparison of a finished migration, source and target, table by table:
``spec`` (what to compare and the SQL), ``stream`` and ``merge`` (keys and hashes), ``run`` (the
whole comparison) and ``report`` (verdicts and renderings)."""
