"""The migration engine: runs a planned migration table by table (no Qt).

Modules, in the order a run uses them: ``routes`` (what a route reads and writes),
``session`` (engine connections), ``run`` (order, loaders, retries, outcome), ``table_load``
(one table: prepare, load, finish), ``target_tables`` (keys and foreign keys after the load or
set aside for replace), ``citus_phases`` (create/distribute before, keys after), ``verify``
(counts and checksums, both sides), ``copy_format`` (COPY's binary framing, CSV lines).
"""
