// SPDX-License-Identifier: Apache-2.0
// Unit tests for the seccomp profiles (runtime/seccomp_profile.c): Docker's
// default profile per capability set, user profiles in Docker's format
// (names, archMap, includes/excludes, errors), Privileges.Seccomp modes, and
// the spec builder placing it in linux.seccomp.
#include "base/b64.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "harness.h"
#include "runtime/oci.h"
#include "runtime/seccomp_profile.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fprintf(stderr, "bad test JSON: %s\n", e.text);
    return j;
}

/* The action of the first rule naming sys, or NULL; *nargs its arg count. */
static const char *rule_for(const json_t *prof, const char *sys, size_t *nargs,
                            json_int_t *errno_ret)
{
    size_t i, k;
    json_t *r, *n;
    json_array_foreach(json_object_get(prof, "syscalls"), i, r)
    {
        json_array_foreach(json_object_get(r, "names"), k, n)
        {
            if (strcmp(json_string_value(n), sys) != 0)
                continue;
            if (nargs)
                *nargs = json_array_size(json_object_get(r, "args"));
            if (errno_ret)
                *errno_ret = jx_int(r, "errnoRet", -1);
            return jx_str(r, "action");
        }
    }
    return NULL;
}

static void test_default_profile(void)
{
    _cleanup_json_ json_t *caps =
        J("[\"CAP_CHOWN\",\"CAP_NET_RAW\",\"CAP_SYS_CHROOT\"]");
    _cleanup_json_ json_t *p = seccomp_default_profile(caps);
    CHECK_STR(jx_str(p, "defaultAction"), "SCMP_ACT_ERRNO");
    CHECK_INT(jx_int(p, "defaultErrnoRet", 0), 1);
#if defined(__x86_64__)

    json_t *arches = json_object_get(p, "architectures");
    CHECK_INT(json_array_size(arches), 3);
    CHECK_STR(json_string_value(json_array_get(arches, 0)), "SCMP_ARCH_X86_64");
    CHECK(rule_for(p, "arch_prctl", NULL, NULL) != NULL);
#endif
    size_t nargs = 9;
    json_int_t eret = 0;
    CHECK_STR(rule_for(p, "read", &nargs, NULL), "SCMP_ACT_ALLOW");
    CHECK_INT(nargs, 0);
    /* Without CAP_SYS_ADMIN: no unshare, mount, setns; clone only
     * without namespace flags; clone3 answers ENOSYS. */
    CHECK(rule_for(p, "unshare", NULL, NULL) == NULL);
    CHECK(rule_for(p, "mount", NULL, NULL) == NULL);
    CHECK(rule_for(p, "setns", NULL, NULL) == NULL);
    CHECK(rule_for(p, "keyctl", NULL, NULL) == NULL);
    CHECK(rule_for(p, "add_key", NULL, NULL) == NULL);
    CHECK_STR(rule_for(p, "clone", &nargs, NULL), "SCMP_ACT_ALLOW");
    CHECK_INT(nargs, 1);
    CHECK_STR(rule_for(p, "clone3", NULL, &eret), "SCMP_ACT_ERRNO");
    CHECK_INT(eret, 38);
    /* Capabilities it has unlock their calls. */
    CHECK_STR(rule_for(p, "chroot", NULL, NULL), "SCMP_ACT_ALLOW");
    CHECK(rule_for(p, "ptrace", NULL, NULL) == NULL);
    CHECK(rule_for(p, "reboot", NULL, NULL) == NULL);
    CHECK_STR(rule_for(p, "personality", &nargs, NULL), "SCMP_ACT_ALLOW");
    CHECK_INT(nargs, 1);
    CHECK_STR(rule_for(p, "socket", &nargs, NULL), "SCMP_ACT_ALLOW");
    CHECK_INT(nargs, 1);

    _cleanup_json_ json_t *admin = J("[\"CAP_SYS_ADMIN\",\"CAP_SYS_PTRACE\"]");
    _cleanup_json_ json_t *pa = seccomp_default_profile(admin);
    CHECK_STR(rule_for(pa, "unshare", NULL, NULL), "SCMP_ACT_ALLOW");
    CHECK_STR(rule_for(pa, "ptrace", NULL, NULL), "SCMP_ACT_ALLOW");
    /* clone is unconditional with CAP_SYS_ADMIN, clone3 allowed. */
    CHECK_STR(rule_for(pa, "clone", &nargs, NULL), "SCMP_ACT_ALLOW");
    CHECK_INT(nargs, 0);
    CHECK_STR(rule_for(pa, "clone3", NULL, NULL), "SCMP_ACT_ALLOW");
}

static void test_user_profile(void)
{
    struct err err = {0};
    _cleanup_json_ json_t *caps = J("[\"CAP_NET_ADMIN\"]");
    _cleanup_json_ json_t *p = seccomp_profile_load(
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\","
        "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\","
        "\"subArchitectures\":[\"SCMP_ARCH_X86\"]},"
        "{\"architecture\":\"SCMP_ARCH_AARCH64\",\"subArchitectures\":"
        "[\"SCMP_ARCH_ARM\"]}],"
        "\"syscalls\":["
        "{\"name\":\"mkdir\",\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13},"
        "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\","
        "\"args\":[{\"index\":1,\"value\":9,\"op\":\"SCMP_CMP_EQ\"}]},"
        "{\"names\":[\"bpf\"],\"action\":\"SCMP_ACT_ALLOW\","
        "\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},"
        "{\"names\":[\"sethostname\"],\"action\":\"SCMP_ACT_ERRNO\","
        "\"excludes\":{\"caps\":[\"CAP_NET_ADMIN\"]}},"
        "{\"names\":[\"ioperm\"],\"action\":\"SCMP_ACT_ERRNO\","
        "\"includes\":{\"arches\":[\"s390x\"]}}]}",
        caps, &err);
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK_STR(jx_str(p, "defaultAction"), "SCMP_ACT_ALLOW");
    CHECK(json_object_get(p, "defaultErrnoRet") == NULL);
#if defined(__x86_64__)
    CHECK_INT(json_array_size(json_object_get(p, "architectures")), 2);
#endif
    json_int_t eret = 0;
    size_t nargs = 0;
    CHECK_STR(rule_for(p, "mkdir", NULL, &eret), "SCMP_ACT_ERRNO");
    CHECK_INT(eret, 13);
    CHECK_STR(rule_for(p, "kill", &nargs, NULL), "SCMP_ACT_ERRNO");
    CHECK_INT(nargs, 1);
    CHECK(rule_for(p, "bpf", NULL, NULL) == NULL);         /* includes */
    CHECK(rule_for(p, "sethostname", NULL, NULL) == NULL); /* excludes */
    CHECK(rule_for(p, "ioperm", NULL, NULL) == NULL);      /* other arch */
    json_t *arg = json_array_get(
        json_object_get(json_array_get(json_object_get(p, "syscalls"), 1),
                        "args"),
        0);
    CHECK_INT(jx_int(arg, "valueTwo", -1), 0);

    static const struct {
        const char *text, *err;
    } bad[] = {
        {"not json", "decoding seccomp profile failed: "},
        {"[]", "decoding seccomp profile failed: the profile must be a JSON "
               "object"},
        {"{}", "decoding seccomp profile failed: defaultAction is missing"},
        {"{\"defaultAction\":\"SCMP_ACT_NOPE\"}",
         "decoding seccomp profile failed: unknown action \"SCMP_ACT_NOPE\""},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"x\"],"
         "\"archMap\":[{\"architecture\":\"y\"}]}",
         "decoding seccomp profile failed: 'architectures' and 'archMap' "
         "were specified in the seccomp profile, use either "
         "'architectures' or 'archMap'"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"name\":"
         "\"a\",\"names\":[\"b\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
         "decoding seccomp profile failed: 'name' and 'names' were "
         "specified in the seccomp profile, use either 'name' or 'names'"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
         "[\"a\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":6,"
         "\"op\":\"SCMP_CMP_EQ\"}]}]}",
         "decoding seccomp profile failed: each arg needs an index from 0 "
         "to 5 and integer values"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
         "[\"a\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
         "\"op\":\"SCMP_CMP_LIKE\"}]}]}",
         "decoding seccomp profile failed: unknown comparison operator "
         "\"SCMP_CMP_LIKE\""},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
         "[],\"action\":\"SCMP_ACT_ALLOW\"}]}",
         "decoding seccomp profile failed: a syscall rule needs 'name' or "
         "'names'"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}",
         "decoding seccomp profile failed: syscalls must be an array"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct err e = {0};
        json_t *x = seccomp_profile_load(bad[i].text, NULL, &e);
        CHECK(x == NULL);
        json_decref(x);
        CHECK_INT(e.code, 400);
        CHECK(strncmp(e.msg, bad[i].err, strlen(bad[i].err)) == 0);
        if (strncmp(e.msg, bad[i].err, strlen(bad[i].err)) != 0)
            fprintf(stderr, "  got: %s\n", e.msg);
    }
}

static void test_modes(void)
{
    struct err err = {0};
    json_t *out = NULL;
    CHECK_INT(seccomp_for_spec(NULL, NULL, &out, &err), 0);
    CHECK_STR(jx_str(out, "defaultAction"), "SCMP_ACT_ERRNO");
    json_decref(out);
    _cleanup_json_ json_t *unconf = J("{\"Mode\":\"unconfined\"}");
    CHECK_INT(seccomp_for_spec(unconf, NULL, &out, &err), 0);
    CHECK(out == NULL);
    const char *prof = "{\"defaultAction\":\"SCMP_ACT_LOG\"}";
    _cleanup_free_ char *b64 = b64_encode(prof, strlen(prof));
    _cleanup_json_ json_t *custom =
        json_pack("{s:s, s:s}", "Mode", "custom", "Profile", b64);
    CHECK_INT(seccomp_for_spec(custom, NULL, &out, &err), 0);
    CHECK_STR(jx_str(out, "defaultAction"), "SCMP_ACT_LOG");
    json_decref(out);
    _cleanup_json_ json_t *strict = J("{\"Mode\":\"strict\"}");
    CHECK_INT(seccomp_for_spec(strict, NULL, &out, &err), -1);
    CHECK(strstr(err.msg, "invalid seccomp mode \"strict\"") != NULL);
    _cleanup_json_ json_t *nob64 = J("{\"Mode\":\"custom\",\"Profile\":\"*\"}");
    CHECK_INT(seccomp_for_spec(nob64, NULL, &out, &err), -1);
    CHECK(strstr(err.msg, "not valid base64") != NULL);
    _cleanup_json_ json_t *empty = J("{\"Mode\":\"custom\"}");
    CHECK_INT(seccomp_for_spec(empty, NULL, &out, &err), -1);
}

static void test_in_oci_spec(void)
{
    _cleanup_json_ json_t *spec =
        J("{\"Args\":[\"true\"],\"Init\":true,\"Privileges\":"
          "{\"NoNewPrivileges\":true,\"Seccomp\":{\"Mode\":\"unconfined\"}}}");
    struct oci_input in = {
        .spec = spec, .rootfs = "/r", .init_path = "/usr/bin/tini-static"};
    struct err err = {0};
    _cleanup_json_ json_t *s = oci_spec_build(&in, &err);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(jx_path(s, "linux.seccomp") == NULL);
    CHECK(json_is_true(jx_path(s, "process.noNewPrivileges")));
    json_t *args = jx_path(s, "process.args");
    CHECK_STR(json_string_value(json_array_get(args, 0)), OCI_INIT_PATH);
    CHECK_STR(json_string_value(json_array_get(args, 1)), "--");
    CHECK_STR(json_string_value(json_array_get(args, 2)), "true");
    json_t *mounts = jx_path(s, "mounts");
    json_t *last = json_array_get(mounts, json_array_size(mounts) - 1);
    CHECK_STR(jx_str(last, "destination"), OCI_INIT_PATH);
    CHECK_STR(jx_str(last, "source"), "/usr/bin/tini-static");

    /* The default: Docker's profile for the default capability set. */
    _cleanup_json_ json_t *plain = J("{\"Args\":[\"true\"]}");
    in.spec = plain;
    _cleanup_json_ json_t *s2 = oci_spec_build(&in, &err);
    CHECK_STR(jx_path_str(s2, "linux.seccomp.defaultAction"), "SCMP_ACT_ERRNO");
    CHECK(rule_for(jx_path(s2, "linux.seccomp"), "chroot", NULL, NULL));
    CHECK(!rule_for(jx_path(s2, "linux.seccomp"), "mount", NULL, NULL));

    /* --init without an init binary on the node. */
    in.spec = spec;
    in.init_path = NULL;
    json_t *s3 = oci_spec_build(&in, &err);
    CHECK(s3 == NULL);
    json_decref(s3);
    CHECK(strstr(err.msg, "no init binary") != NULL);
}

int main(void)
{
    RUN(test_default_profile);
    RUN(test_user_profile);
    RUN(test_modes);
    RUN(test_in_oci_spec);
    HARNESS_END();
}
