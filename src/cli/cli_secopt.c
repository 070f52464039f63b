// SPDX-License-Identifier: Apache-2.0
// Parses shoal's --security-opt values as `docker run` does (key=value or
// key:value, no-new-privileges alone) and turns them into the ContainerSpec's
// Privileges, reading and checking a seccomp profile file on the client so
// a mistake is reported before anything reaches the cluster.
#include "cli/cli_secopt.h"

#include <string.h>

#include "base/b64.h"
#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "runtime/seccomp_profile.h"

static int seccomp_opt(const char *value, json_t *priv, struct err *err)
{
    json_t *sc = json_object();
    json_object_set_new(priv, "Seccomp", sc);
    if (strcmp(value, "unconfined") == 0 || strcmp(value, "default") == 0) {
        json_object_set_new(sc, "Mode", json_string(value));
        return 0;
    }
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    struct err ferr = {0};
    if (fs_read_file(value, &text, &len, &ferr) < 0)
        return err_set(err, ERR_INVALID,
                       "opening seccomp profile (%s) failed: %s", value,
                       ferr.msg);
    json_t *check = seccomp_profile_load(text, NULL, err);
    if (!check)
        return err_ctx(err, "seccomp profile (%s)", value);
    json_decref(check);
    _cleanup_free_ char *b64 = b64_encode(text, len);
    json_object_set_new(sc, "Mode", json_string("custom"));
    json_object_set_new(sc, "Profile", json_string(b64));
    return 0;
}

int cli_security_opts(const struct cli_flags *fl, json_t *cs, struct err *err)
{
    bool nnp_flag = cli_flag_changed(fl, "no-new-privileges");
    const struct vec *opts = cli_flag_list(fl, "security-opt");
    if (!nnp_flag && (!opts || opts->len == 0))
        return 0;
    json_t *priv = jx_obj(cs, "Privileges");
    if (nnp_flag)
        json_object_set_new(
            priv, "NoNewPrivileges",
            json_boolean(cli_flag_bool(fl, "no-new-privileges")));
    for (size_t i = 0; opts && i < opts->len; i++) {
        const char *opt = opts->items[i];
        const char *sep = strchr(opt, '=');
        if (!sep && strcmp(opt, "no-new-privileges") != 0)
            sep = strchr(opt, ':');
        _cleanup_free_ char *key =
            sep ? xstrndup(opt, (size_t)(sep - opt)) : xstrdup(opt);
        const char *value = sep ? sep + 1 : "";
        if (strcmp(key, "no-new-privileges") == 0) {
            if (*value && strcmp(value, "true") != 0 &&
                strcmp(value, "false") != 0)
                return err_set(err, ERR_INVALID,
                               "invalid --security-opt %zu: %s: expected "
                               "\"true\" or \"false\"",
                               i + 1, opt);
            json_object_set_new(priv, "NoNewPrivileges",
                                json_boolean(strcmp(value, "false") != 0));
            continue;
        }
        if (!*value)
            return err_set(err, ERR_INVALID, "invalid --security-opt: \"%s\"",
                           opt);
        if (strcmp(key, "seccomp") == 0) {
            if (seccomp_opt(value, priv, err) < 0)
                return -1;
            continue;
        }
        return err_set(err, ERR_INVALID, "invalid --security-opt %zu: \"%s\"",
                       i + 1, opt);
    }
    return 0;
}
