"""Citus's coordinator failing to reach one of its worker nodes is said as that: the target
answered, so its host, port and password are right (the real cluster's case, a stopped worker,
is in tests/integration/test_citus_faults.py)."""

from __future__ import annotations

from coursemig_gui.core.explain import explain_error

ADVICE = (
    "The target itself answered: the worker node may be stopped, restarting or out of reach. "
    "Check the cluster's nodes (on Azure, the cluster's page in the portal), then run the "
    "migration again."
)


def test_a_worker_refusing_the_coordinators_login_is_not_the_users_password():
    # the coordinator logs in to the worker with pg_dist_authinfo's password, not the user's
    raw = (
        "connection to the remote node citus@10.0.0.5:5432 failed with the following error: "
        'FATAL:  password authentication failed for user "citus"'
    )
    assert explain_error(Exception(raw)).message == (
        "The target's Citus coordinator could not reach its worker node 10.0.0.5:5432 "
        f'(password authentication failed for user "citus"). {ADVICE}'
    )


def test_a_worker_that_does_not_answer_in_time():
    raw = "could not establish any connections to the node 10.0.0.6:5432 after 30000 ms"
    assert explain_error(Exception(raw)).message == (
        "The target's Citus coordinator could not reach its worker node 10.0.0.6:5432 "
        f"(no answer within 30000 ms). {ADVICE}"
    )
