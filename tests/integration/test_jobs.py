# SPDX-License-Identifier: Apache-2.0
"""Job services: replicated-job (completions, max concurrent, a failed
task retried) and global-job, through the shoal CLI and the API's
ServiceStatus / JobStatus."""

from shoalnode import hold_for, wait_for


def states(node, service):
    return sorted(t["Status"]["State"] for t in node.tasks(service))


def status(node, name):
    for s in node.api_json("GET", "/services?status=true"):
        if s["Spec"]["Name"] == name:
            return s
    raise AssertionError(f"no service {name}")


def test_replicated_job_runs_to_completion(loaded_node):
    node = loaded_node
    node.create_service(
        "batch", opts=["--mode", "replicated-job", "--replicas", "5",
                       "--max-concurrent", "2"],
        cmd=["sh", "-c", "sleep 0.3"])
    seen_running = []

    def done():
        st = states(node, "batch")
        seen_running.append(st.count("running"))
        return st.count("complete") == 5

    wait_for(done, 60, "5 completed tasks")
    assert max(seen_running) <= 2, seen_running
    hold_for(lambda: states(node, "batch") == ["complete"] * 5, 2,
             "five completed tasks and nothing restarted")
    s = status(node, "batch")
    assert s["ServiceStatus"]["CompletedTasks"] == 5, s["ServiceStatus"]
    assert s["ServiceStatus"]["DesiredTasks"] == 0, s["ServiceStatus"]
    assert s["JobStatus"]["JobIteration"]["Index"] >= 1, s
    assert node.replicas("batch") == "0/0 (5/5 completed)"
    rows = node.service_ls()
    assert [r["MODE"] for r in rows if r["NAME"] == "batch"] == \
        ["replicated job"], rows


def test_replicated_job_retries_a_failure(loaded_node):
    node = loaded_node
    # Always fails: retried by the restart policy, never marked complete.
    node.create_service(
        "flaky", opts=["--mode", "replicated-job",
                       "--restart-condition", "on-failure"],
        cmd=["sh", "-c", "exit 3"])
    wait_for(lambda: states(node, "flaky").count("failed") >= 2, 30,
             "the failed job task to be retried")
    assert "complete" not in states(node, "flaky")


def test_global_job_runs_once_per_node(loaded_node):
    node = loaded_node
    # Without -d the CLI waits for the job and returns when it is done.
    node.create_service("gjob", opts=["--mode", "global-job"],
                        cmd=["true"], detach=False)
    wait_for(lambda: states(node, "gjob") == ["complete"], 30,
             "the global job's one task to complete")
    hold_for(lambda: states(node, "gjob") == ["complete"], 2,
             "no restart after completion")
    assert node.replicas("gjob") == "0/0 (1/1 completed)"


def test_job_counts_must_not_be_negative(loaded_node):
    r = loaded_node.api("POST", "/services/create", {
        "Name": "neg", "TaskTemplate": {"ContainerSpec": {"Image": "simple_server"}},
        "Mode": {"ReplicatedJob": {"MaxConcurrent": -1}}})
    assert r.status == 400, r
    assert "cannot unmarshal number -1" in r.message
    assert not any(s["Spec"]["Name"] == "neg"
                   for s in loaded_node.api_json("GET", "/services"))
