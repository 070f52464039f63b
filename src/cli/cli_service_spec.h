// SPDX-License-Identifier: Apache-2.0
// Turning `service create` / `service update` flags into a ServiceSpec the
// way the docker CLI does, byte for byte: option parsing (--mount,
// --publish, --network, --secret, ...), the create conversion, the update
// merge against an existing spec, and re-encoding in the field order and
// omitempty rules of the Go structs the docker CLI marshals.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "cli/flags.h"

/* Flags of `service create` and `service update` (docker 28's sets); the
 * counts are checked against the tables at compile time. */
#define CLI_SERVICE_CREATE_NFLAGS 73
#define CLI_SERVICE_UPDATE_NFLAGS 91
extern const struct cli_flag
    cli_service_create_flags[CLI_SERVICE_CREATE_NFLAGS];
extern const struct cli_flag
    cli_service_update_flags[CLI_SERVICE_UPDATE_NFLAGS];

/* Lookups the conversion needs from the daemon, behind an interface so the
 * conversion stays pure (tests pass fakes). */
struct cli_spec_resolver {
    /* Network name or ID -> ID (owned), or NULL with err. */
    char *(*network_id)(void *ud, const char *name, struct err *err);
    /* kind is "secrets" or "configs": names -> JSON object name -> ID
     * (owned), or NULL with err. */
    json_t *(*object_ids)(void *ud, const char *kind, const char *const *names,
                          size_t n, struct err *err);
    void *ud;
};

/* Builds the spec for `service create` from parsed flags (args[0] is the
 * image, the rest become ContainerSpec.Args). Owned result, in canonical
 * order; NULL with docker's error text. */
json_t *cli_service_spec_create(const struct cli_flags *fl,
                                const struct cli_spec_resolver *r,
                                struct err *err);
/* Applies `service update` flags to spec (a ServiceSpec as returned by the
 * daemon) in place, then canonicalises it. */
int cli_service_spec_update(json_t **spec, const struct cli_flags *fl,
                            const struct cli_spec_resolver *r, struct err *err);

/* Which Go type a JSON document is re-encoded as. */
enum cli_go_type {
    CLI_GO_SERVICE_SPEC,
    CLI_GO_NODE_SPEC,
    CLI_GO_SWARM_SPEC,
};
/* Re-encodes j with the fields, order and omitempty rules of the Go type,
 * dropping unknown fields, as decoding into the struct and marshalling it
 * again does. Owned result. */
json_t *cli_go_canon(enum cli_go_type type, const json_t *j);
/* Compact JSON as Go's encoding/json writes it (HTML-safe escapes,
 * shortest floats). Appends to out. */
void cli_go_json(const json_t *j, struct buf *out);

/* Option parsers (exposed for tests). Each returns a new JSON value or
 * NULL with docker's message. */
json_t *cli_parse_mount(const char *value, struct err *err);
/* Appends one or more PortConfig objects to ports. */
int cli_parse_port(const char *value, json_t *ports, struct err *err);
json_t *cli_parse_network(const char *value, struct err *err);
/* kind "secret" or "config". */
json_t *cli_parse_secret_ref(const char *kind, const char *value,
                             struct err *err);
json_t *cli_parse_ulimit(const char *value, struct err *err);
/* "spread=<descriptor>" -> a PlacementPreference. */
json_t *cli_parse_pref(const char *value, struct err *err);
/* runconfigopts.ConvertKVStringsToMap for one "k=v" (or "k") into map. */
void cli_kv_into(json_t *map, const char *kv);
/* The digest-pinning warning docker prints when GET /distribution fails. */
char *cli_digest_warning(const char *image);
