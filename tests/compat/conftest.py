# SPDX-License-Identifier: Apache-2.0
"""pytest setup of the docker CLI compatibility suite: the same node harness
and fixtures as the integration suite (tests/integration/shoalnode.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from shoalnode import (  # noqa: E402,F401 - fixtures and hooks, by name
    image_archive, loaded_node, node, node_factory, pytest_runtest_makereport,
    shoal_session, swarm_node)
