"""Citus targets (Azure Cosmos DB for PostgreSQL, Elastic Clusters): detection, placement
suggestions, the rules Citus enforces (checked before anything runs), and the statements that
distribute a table.

A table on a Citus cluster is *local* (a plain table on the coordinator), a *reference* table
(a full copy on every node, for small lookup tables) or *distributed* by one column (its rows
spread over the worker nodes by a hash of that column). Placement is offered only when the target
has Citus; ``run_migration`` refuses a non-local placement on a plain PostgreSQL target.

How a run on Citus goes (see ``engine/run.py`` and ``engine/citus_phases.py``): create every new table and distribute it while it is
still empty -> load the reference and local tables and commit -> load the distributed tables ->
add the foreign keys -> move sequences and identities past their largest value (on the
coordinator). Foreign keys come after the loads because Citus checks them across nodes, and a
table's load must not wait for another table's shards.

Parallel loading: ``MigrationOptions.loaders`` tables load at once, each over its own
connections. Each COPY into a distributed table opens one connection per shard on the worker
nodes (up to ``citus.max_adaptive_executor_pool_size`` per worker), so N loaders into tables of
32 shards may hold N x 32 worker connections: keep the cap low on small clusters.

The unique-constraint choice: Citus can only enforce a UNIQUE constraint that includes the
distribution column. Django's ``course`` has ``UNIQUE (slug)`` besides its key ``pid``; distributing
it by ``pid`` cannot keep that constraint. Rather than block such a table, the check reports a
*warning* that says so, and ``ddl.create_table`` leaves that constraint out of a distributed
table (the values are unique in the source; new rows are no longer checked). A PRIMARY KEY
without the distribution column is an *error*: a table without its key is not what the user
asked for. To keep such a UNIQUE, distribute the table by a column of that constraint instead.

Modules: ``messages`` (Citus's error texts and our sentences for them), ``detection``,
``placement`` (the statements and the order), ``rules`` (checked before running) and
``suggestions``. Every Citus error text the tool expects is in ``messages.CITUS_MESSAGES``, so a run against a real
cluster can check them (``citus_error_kind``).
"""
