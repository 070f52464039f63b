// SPDX-License-Identifier: Apache-2.0
// Kernel parameters under /proc/sys, read and written as files. The
// net.* keys belong to the network namespace of the calling thread, so a
// thread that has entered a node's namespace configures that node.
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* key is dotted ("net.ipv4.ip_forward") or a path below /proc/sys
 * ("net/ipv4/conf/eth0.1/forwarding", for names that contain dots). */

/* True if the parameter exists (e.g. net.bridge.* only with br_netfilter). */
bool sysctl_exists(const char *key);
/* Reads the value without its trailing newline into buf; 404 if the
 * parameter does not exist. */
int sysctl_read(const char *key, char *buf, size_t size, struct err *err);
/* Writes value unless the parameter already has it (so an unchanged value
 * also works where /proc/sys is read-only); 404 if it does not exist. */
int sysctl_write(const char *key, const char *value, struct err *err);
