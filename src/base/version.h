// SPDX-License-Identifier: Apache-2.0
// shoal's release version, reported by shoald, GET /version and /info.
#pragma once

#define SHOAL_VERSION "0.1.0"
