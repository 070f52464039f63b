// SPDX-License-Identifier: Apache-2.0
// Registers every resource file's routes on the daemon's HTTP server (the
// one file that knows them all, so the resource files and the helpers in
// api.c point one way only).
#include "api/api.h"
#include "api/api_internal.h"

void api_register(struct http_server *s, struct api_host *host,
                  const char *spool_dir)
{
    (void)host; /* the server's data (http_server_new): every handler's */
    http_server_set_version(s, SHOAL_VERSION);
    http_server_set_spool_dir(s, spool_dir);
    api_system_routes(s);
    api_system_df_routes(s);
    api_swarm_routes(s);
    api_nodes_routes(s);
    api_services_routes(s);
    api_tasks_routes(s);
    api_logs_routes(s);
    api_images_routes(s);
    api_images_registry_routes(s);
    api_containers_routes(s);
    api_networks_routes(s);
    api_secrets_routes(s);
    api_events_routes(s);
    api_volumes_routes(s);
    api_build_routes(s);
}
