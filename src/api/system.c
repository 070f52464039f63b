// SPDX-License-Identifier: Apache-2.0
// GET /version and GET /info (GET /distribution/{name}/json is in
// images_registry.c).
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "base/mem.h"
#include "base/timeutil.h"

static void get_version(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct utsname u;
    uname(&u);
    json_t *engine =
        json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}}", "Name",
                  "Engine", "Version", SHOAL_VERSION, "Details", "ApiVersion",
                  API_VERSION_MAX, "Arch", "amd64", "GitCommit", "",
                  "KernelVersion", u.release, "MinAPIVersion", API_VERSION_MIN,
                  "Os", "linux", "Experimental", "false");
    json_t *rt = json_pack(
        "{s:s, s:s, s:{s:s}}", "Name", runtime_name(h->runtime), "Version",
        runtime_version(h->runtime), "Details", "GitCommit", "");
    json_t *j = json_pack(
        "{s:{s:s}, s:[o, o], s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
        "Platform", "Name", "shoal", "Components", engine, rt, "Version",
        SHOAL_VERSION, "ApiVersion", API_VERSION_MAX, "MinAPIVersion",
        API_VERSION_MIN, "GitCommit", "", "GoVersion", "", "Os", "linux",
        "Arch", "amd64", "KernelVersion", u.release, "BuildTime", "");
    api_reply(req, 200, j);
}

static json_t *swarm_info(struct api_host *h)
{
    json_t *sw = json_object();
    bool active = api_swarm_state(h) == API_SWARM_ACTIVE;
    json_object_set_new(sw, "NodeID",
                        json_string(active ? api_node_id(h) : ""));
    struct node *self =
        active ? store_node(api_store(h), api_node_id(h)) : NULL;
    json_object_set_new(sw, "NodeAddr",
                        json_string(self && self->addr ? self->addr : ""));
    const char *state = "inactive";
    if (api_swarm_state(h) == API_SWARM_ACTIVE)
        state = "active";
    else if (api_swarm_state(h) == API_SWARM_PENDING)
        state = "pending";
    else if (api_swarm_state(h) == API_SWARM_LOCKED)
        state = "locked";
    json_object_set_new(sw, "LocalNodeState", json_string(state));
    json_object_set_new(sw, "ControlAvailable",
                        json_boolean(active && h->ops->is_manager(h->self)));
    json_object_set_new(sw, "Error", json_string(""));
    if (!active) {
        json_object_set_new(sw, "RemoteManagers", json_null());
        return sw;
    }
    json_t *managers = json_array();
    size_t it = 0, nodes = 0, n_managers = 0;
    void *o;
    while (store_next(api_store(h), KIND_NODE, &it, &o)) {
        struct node *n = o;
        nodes++;
        if (!n->manager)
            continue;
        n_managers++;
        json_array_append_new(
            managers, json_pack("{s:s, s:s}", "NodeID", n->meta.id, "Addr",
                                n->manager_addr ? n->manager_addr : ""));
    }
    json_object_set_new(sw, "RemoteManagers", managers);
    json_object_set_new(sw, "Nodes", json_integer((json_int_t)nodes));
    json_object_set_new(sw, "Managers", json_integer((json_int_t)n_managers));
    struct cluster *c = store_cluster(api_store(h));
    if (c)
        json_object_set_new(sw, "Cluster", cluster_to_json(c));
    return sw;
}

static void count_containers(struct api_host *h, json_t *info)
{
    json_t *all = ctr_list_json(h->runtime, true, NULL);
    size_t i, running = 0, stopped = 0;
    json_t *c;
    json_array_foreach(all, i, c)
    {
        const char *st = jx_str(c, "State");
        if (st && strcmp(st, "running") == 0)
            running++;
        else
            stopped++;
    }
    json_object_set_new(info, "Containers",
                        json_integer((json_int_t)json_array_size(all)));
    json_object_set_new(info, "ContainersRunning",
                        json_integer((json_int_t)running));
    json_object_set_new(info, "ContainersPaused", json_integer(0));
    json_object_set_new(info, "ContainersStopped",
                        json_integer((json_int_t)stopped));
    json_decref(all);
}

static void get_info(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct utsname u;
    uname(&u);
    struct sysinfo si;
    sysinfo(&si);
    char now[TIME_STRLEN];
    time_fmt_rfc3339(time_now_ns(), now);
    json_t *info = json_object();
    json_object_set_new(info, "ID", json_string(api_node_id(h)));
    count_containers(h, info);
    json_t *images = image_list(h->images, NULL);
    json_object_set_new(info, "Images",
                        json_integer((json_int_t)json_array_size(images)));
    json_decref(images);
    json_object_set_new(info, "Driver", json_string("overlay2"));
    json_object_set_new(info, "DriverStatus", json_array());
    json_object_set_new(info, "Plugins",
                        json_pack("{s:[s], s:[s, s], s:n, s:[s]}", "Volume",
                                  "local", "Network", "overlay", "null",
                                  "Authorization", "Log", "json-file"));
    json_object_set_new(info, "MemoryLimit", json_true());
    json_object_set_new(info, "SwapLimit", json_false());
    json_object_set_new(info, "CpuCfsPeriod", json_true());
    json_object_set_new(info, "CpuCfsQuota", json_true());
    json_object_set_new(info, "PidsLimit", json_true());
    json_object_set_new(info, "IPv4Forwarding", json_true());
    json_object_set_new(info, "Debug", json_false());
    json_object_set_new(info, "SystemTime", json_string(now));
    json_object_set_new(info, "LoggingDriver", json_string("json-file"));
    json_object_set_new(info, "CgroupDriver", json_string("cgroupfs"));
    json_object_set_new(
        info, "CgroupVersion",
        json_string(access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0
                        ? "2"
                        : "1"));
    json_object_set_new(info, "KernelVersion", json_string(u.release));
    json_object_set_new(info, "OperatingSystem", json_string("linux"));
    json_object_set_new(info, "OSType", json_string("linux"));
    json_object_set_new(info, "Architecture", json_string(u.machine));
    json_object_set_new(info, "NCPU",
                        json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    json_object_set_new(
        info, "MemTotal",
        json_integer((json_int_t)si.totalram * (json_int_t)si.mem_unit));
    json_object_set_new(info, "DockerRootDir", json_string(h->data_root));
    json_object_set_new(info, "Name", json_string(h->hostname));
    json_object_set_new(info, "Labels", json_array());
    json_object_set_new(info, "ExperimentalBuild", json_false());
    json_object_set_new(info, "ServerVersion", json_string(SHOAL_VERSION));
    json_t *runtimes = json_object();
    json_object_set_new(runtimes, runtime_name(h->runtime),
                        json_pack("{s:s}", "path", runtime_name(h->runtime)));
    json_object_set_new(info, "Runtimes", runtimes);
    json_object_set_new(info, "DefaultRuntime",
                        json_string(runtime_name(h->runtime)));
    json_object_set_new(info, "Swarm", swarm_info(h));
    json_object_set_new(info, "LiveRestoreEnabled", json_true());
    json_object_set_new(info, "Isolation", json_string(""));
    json_object_set_new(info, "SecurityOptions",
                        json_pack("[s]", "name=no-new-privileges"));
    json_object_set_new(info, "Warnings", json_null());
    api_reply(req, 200, info);
}

static const struct http_route routes[] = {
    {"GET", "/version", get_version},
    {"GET", "/info", get_info},
};

void api_system_routes(struct http_server *s)
{
    http_server_add_routes(s, routes, ARRAY_SIZE(routes));
}
