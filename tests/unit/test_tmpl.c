// SPDX-License-Identifier: Apache-2.0
// Unit tests for task templates (base/tmpl.c, agent/tasktmpl.c) and the
// base64 codec the seccomp profiles travel in (base/b64.c).
#include "agent/tasktmpl.h"
#include "base/b64.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "base/tmpl.h"
#include "harness.h"

static void test_expand(void)
{
    struct err err = {0};
    _cleanup_free_ char *a =
        tmpl_expand("plain", tmpl_swarm_field_check, NULL, &err);
    CHECK_STR(a, "plain");
    _cleanup_free_ char *b = tmpl_expand("x-{{.Service.Name}}-{{ .Task.Slot }}",
                                         tmpl_swarm_field_check, NULL, &err);
    CHECK_STR(b, "x--");
    static const struct {
        const char *text, *err;
    } bad[] = {
        {"{{.Task.Nope}}", "can't evaluate field Task.Nope"},
        {"{{.Task.Slot", "unclosed action"},
        {"a}}", "unexpected \"}}\""},
        {"{{printf \"%d\" 1}}", "only field references"},
        {"{{.}}", "only field references"},
        {"{{.Task..Slot}}", "only field references"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char *x = tmpl_expand(bad[i].text, tmpl_swarm_field_check, NULL, &err);
        CHECK(x == NULL);
        free(x);
        CHECK_INT(err.code, 400);
        CHECK(strstr(err.msg, bad[i].err) != NULL);
    }
}

static void test_task_fields(void)
{
    struct task t = {.slot = 3};
    snprintf(t.meta.id, sizeof(t.meta.id), "taskid0000000000000000001");
    snprintf(t.service_id, sizeof(t.service_id), "svcid00000000000000000001");
    snprintf(t.node_id, sizeof(t.node_id), "nodeid0000000000000000001");
    struct service s = {.name = "web"};
    s.spec = json_pack("{s:{s:s}}", "Labels", "tier", "front");
    struct node n = {0};
    n.description =
        json_pack("{s:s, s:{s:s, s:s}}", "Hostname", "box1", "Platform", "OS",
                  "linux", "Architecture", "aarch64");
    t.spec =
        json_pack("{s:{s:s, s:[s, s]}}", "ContainerSpec", "Hostname",
                  "{{.Service.Name}}-{{.Task.Slot}}.{{.Node.Hostname}}", "Env",
                  "A={{.Task.Name}}",
                  "B={{.Service.Labels.tier}}/{{.Node.Platform.Architecture}}");
    struct tasktmpl_ctx ctx = {.task = &t,
                               .task_name = "web.3.taskid",
                               .service = &s,
                               .node = &n,
                               .node_id = t.node_id};
    struct err err = {0};
    _cleanup_json_ json_t *cs = tasktmpl_container_spec(&ctx, &err);
    CHECK(cs != NULL);
    CHECK_STR(jx_str(cs, "Hostname"), "web-3.box1");
    CHECK_STR(json_string_value(json_array_get(json_object_get(cs, "Env"), 0)),
              "A=web.3.taskid");
    CHECK_STR(json_string_value(json_array_get(json_object_get(cs, "Env"), 1)),
              "B=front/aarch64");
    /* The task's own spec is untouched. */
    CHECK_STR(jx_path_str(t.spec, "ContainerSpec.Hostname"),
              "{{.Service.Name}}-{{.Task.Slot}}.{{.Node.Hostname}}");
    char scratch[64];
    CHECK_STR(tasktmpl_lookup(&ctx, "Task.ID", scratch, sizeof(scratch)),
              t.meta.id);
    CHECK_STR(tasktmpl_lookup(&ctx, "Service.ID", scratch, sizeof(scratch)),
              t.service_id);
    CHECK_STR(tasktmpl_lookup(&ctx, "Node.ID", scratch, sizeof(scratch)),
              t.node_id);
    CHECK(tasktmpl_lookup(&ctx, "Node.Nope", scratch, sizeof(scratch)) == NULL);
    /* A global task's slot is its node. */
    t.slot = 0;
    CHECK_STR(tasktmpl_lookup(&ctx, "Task.Slot", scratch, sizeof(scratch)),
              t.node_id);
    json_decref(t.spec);
    t.spec =
        json_pack("{s:{s:s}}", "ContainerSpec", "Hostname", "{{.Task.Bad}}");
    json_t *x = tasktmpl_container_spec(&ctx, &err);
    CHECK(x == NULL);
    CHECK(strstr(err.msg, "expanding hostname") != NULL);
    json_decref(t.spec);
    json_decref(s.spec);
    json_decref(n.description);
}

static void test_b64(void)
{
    static const char *const plain[] = {"",     "f",     "fo",    "foo",
                                        "foob", "fooba", "foobar"};
    static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
        _cleanup_free_ char *e = b64_encode(plain[i], strlen(plain[i]));
        CHECK_STR(e, enc[i]);
        size_t len = 99;
        _cleanup_free_ char *d = b64_decode(enc[i], &len);
        CHECK_STR(d, plain[i]);
        CHECK_INT(len, strlen(plain[i]));
    }
    static const char *const bad[] = {"Zg=",  "Z===", "Zg==Zg==",        "Zm9*",
                                      "Zm=v", "Zg =", "\xff\xff\xff\xff"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        size_t len;
        char *d = b64_decode(bad[i], &len);
        CHECK(d == NULL);
        free(d);
    }
}

int main(void)
{
    RUN(test_expand);
    RUN(test_task_fields);
    RUN(test_b64);
    HARNESS_END();
}
