# SPDX-License-Identifier: Apache-2.0
"""The docker CLI's job services against shoald: `docker service create
--mode replicated-job` waits for the job to finish and `docker service ls`
shows its completions."""

import time

from shoalnode import parse_table


def test_replicated_job_waits_for_completion(loaded_node):
    node = loaded_node
    t0 = time.monotonic()
    out = node.docker_ok("service", "create", "--name", "job",
                         "--mode", "replicated-job", "--replicas", "3",
                         "--max-concurrent", "2", "--detach=false",
                         "simple_server", "true", timeout=90)
    assert time.monotonic() - t0 < 60, out
    assert "job complete" in out, out
    rows = parse_table(node.docker_ok("service", "ls"))
    row = [r for r in rows if r["NAME"] == "job"]
    assert row and row[0]["REPLICAS"] == "0/0 (3/3 completed)", rows
    assert row[0]["MODE"] == "replicated job", rows
