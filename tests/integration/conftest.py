# SPDX-License-Identifier: Apache-2.0
"""pytest setup of the integration suite: the fixtures (node, node_factory,
swarm_node, image_archive, loaded_node) and hooks live in shoalnode.py."""

from shoalnode import (  # noqa: F401 - fixtures and hooks, by name
    image_archive, loaded_node, node, node_factory, pytest_runtest_makereport,
    shoal_session, swarm_node)
