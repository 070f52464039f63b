// SPDX-License-Identifier: Apache-2.0
// Validation of what users write about secrets and configs: SecretSpec /
// ConfigSpec (name rule, size limits, labels-only updates) and the
// references a service's ContainerSpec makes to them (names resolved to
// IDs, file targets checked), with swarmkit's rules and error words.
// Pure: it reads the store, never writes it, and does no I/O.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "store/store.h"

/* swarmkit's limits (MaxSecretSize, MaxConfigSize): 1 .. 500 KiB - 1
 * bytes once decoded. */
#define SECRET_MAX_SIZE (500 * 1024)
#define CONFIG_MAX_SIZE (500 * 1024)

/* Docker's rule for secret and config names: at most 64 characters,
 * ^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$ */
bool secretspec_valid_name(const char *name);

/* Validates and normalises a SecretSpec / ConfigSpec (kind KIND_SECRET /
 * KIND_CONFIG) in place: Name, Labels (an object of strings; {} when
 * absent), Data (base64 of 1 .. max - 1 bytes); Driver and Templating are
 * refused (not supported). Unknown fields are dropped. 400 on error. */
int secretspec_validate(enum store_kind kind, json_t *spec, struct err *err);

/* An update of cur to spec: only Labels may change (swarmkit's "only
 * updates to Labels are allowed"); the new labels into *labels
 * (borrowed from spec). 400 on error. */
int secretspec_update(const struct secret *cur, const json_t *spec,
                      json_t **labels, struct err *err);

/* Resolves and checks ContainerSpec.Secrets and .Configs in place: each
 * reference names its object by SecretID / ConfigID (a full ID) or by
 * SecretName / ConfigName; both are set to the object's. File targets
 * must be set, unique and clean; File.UID / GID default to "0" and Mode
 * to 0444. 400 "secret not found: x" (swarmkit's words) for unknown
 * ones. A NULL store accepts only what is written (no lookups). */
int secretspec_resolve_refs(const struct store *s, json_t *container_spec,
                            struct err *err);

/* Does the ContainerSpec refer to the secret / config with this id? */
bool secretspec_refers(const json_t *container_spec, enum store_kind kind,
                       const char *id);
