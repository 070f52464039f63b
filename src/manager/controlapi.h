// SPDX-License-Identifier: Apache-2.0
// Validation and normalisation of what users write (ServiceSpec, NodeSpec),
// before anything is proposed: Docker's and swarmkit's rules and error
// words, unknown fields dropped the way Go's JSON decoding drops them, a
// generated name when none is given. Pure: no store, no I/O.
#pragma once

#include <jansson.h>

#include "base/err.h"

/* Validates and normalises a ServiceSpec in place. Returns 0, or -1 with a
 * 400 error whose message says what is wrong. */
int controlapi_service_spec(json_t *spec, struct err *err);

/* Validates a NodeSpec (Role, Availability, Labels, Name) in place. */
int controlapi_node_spec(json_t *spec, struct err *err);

/* A random "adjective_surname" name like Docker's, for unnamed services. */
void controlapi_random_name(char *out, size_t size);

/* True if s matches swarmkit's name rule for services and networks,
 * ^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$ (any length). */
bool controlapi_valid_name(const char *s);
/* swarmkit's validateAnnotations for a service or network name: 0, or -1
 * with its 400 error ("name must be valid as a DNS name component", "name
 * must be 63 characters or fewer"). */
int controlapi_check_name(const char *name, struct err *err);
