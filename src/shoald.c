// SPDX-License-Identifier: Apache-2.0
// shoald: the shoal daemon. Parses its flags and runs the daemon; "shoald
// shim ..." is the per-container shim the runtime spawns.
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "daemon/daemon.h"
#include "runtime/container.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: shoald [OPTIONS]\n"
            "\n"
            "The shoal daemon: a swarm node serving the Docker Engine API.\n"
            "\n"
            "Options:\n"
            "  -H, --host ADDR          API address, unix:///path or "
            "tcp://host:port\n"
            "                           (default %s; repeatable)\n"
            "      --data-root DIR      where the node keeps its state "
            "(default %s)\n"
            "      --runtime NAME       OCI runtime: runc or crun "
            "(default: detected)\n"
            "      --cgroup-parent NAME cgroup parent of containers "
            "(default shoal-<hostname>)\n"
            "      --insecure-registry HOST[:PORT]\n"
            "                           a registry reached over plain http "
            "(loopback\n"
            "                           ones always are; repeatable)\n"
            "  -l, --log-level LEVEL    debug, info, warn or error "
            "(default info)\n"
            "  -v, --version            print the version and exit\n"
            "  -h, --help               print this help and exit\n",
            DEFAULT_SOCKET, DEFAULT_DATA_ROOT);
}

int main(int argc, char **argv)
{
    mem_install_allocators();
    if (argc > 1 && strcmp(argv[1], "shim") == 0) {
        log_set_prefix("shim");
        return shim_main(argc - 1, argv + 1);
    }
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'H'},
        {"data-root", required_argument, NULL, 'd'},
        {"runtime", required_argument, NULL, 'r'},
        {"cgroup-parent", required_argument, NULL, 'c'},
        {"log-level", required_argument, NULL, 'l'},
        {"insecure-registry", required_argument, NULL, 'i'},
        {"version", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct daemon_config cfg = {.data_root = DEFAULT_DATA_ROOT,
                                .log_level = LOG_INFO};
    int c;
    while ((c = getopt_long(argc, argv, "H:l:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'H':
            if (cfg.n_hosts == (int)ARRAY_SIZE(cfg.hosts)) {
                fprintf(stderr, "shoald: too many -H addresses\n");
                return 2;
            }
            if (strncmp(optarg, "unix://", 7) != 0 &&
                strncmp(optarg, "tcp://", 6) != 0) {
                fprintf(stderr,
                        "shoald: invalid address '%s': use unix:///path or "
                        "tcp://host:port\n",
                        optarg);
                return 2;
            }
            cfg.hosts[cfg.n_hosts++] = optarg;
            break;
        case 'd':
            if (optarg[0] != '/') {
                fprintf(stderr, "shoald: --data-root must be absolute\n");
                return 2;
            }
            cfg.data_root = optarg;
            break;
        case 'r':
            if (strcmp(optarg, "runc") != 0 && strcmp(optarg, "crun") != 0) {
                fprintf(stderr, "shoald: unknown runtime '%s'\n", optarg);
                return 2;
            }
            cfg.runtime = optarg;
            break;
        case 'c':
            cfg.cgroup_parent = optarg;
            break;
        case 'i':
            if (cfg.n_insecure + 1 >=
                (int)ARRAY_SIZE(cfg.insecure_registries)) {
                fprintf(stderr, "shoald: too many --insecure-registry\n");
                return 2;
            }
            cfg.insecure_registries[cfg.n_insecure++] = optarg;
            break;
        case 'l':
            cfg.log_level = log_level_parse(optarg);
            if (cfg.log_level < 0) {
                fprintf(stderr, "shoald: unknown log level '%s'\n", optarg);
                return 2;
            }
            break;
        case 'v':
            printf("shoald version %s\n", SHOAL_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "shoald: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (cfg.n_hosts == 0)
        cfg.hosts[cfg.n_hosts++] = DEFAULT_SOCKET;
    log_set_level((enum log_level)cfg.log_level);
    return daemon_run(&cfg);
}
