// SPDX-License-Identifier: Apache-2.0
// Validation of user specs: Docker's error words for bad types and bad
// values, unknown fields dropped, defaults filled in, names generated.
#include "harness.h"

#include "base/jsonx.h"
#include "base/mem.h"
#include "manager/controlapi.h"

static int validate(const char *text, json_t **out, struct err *err)
{
    json_error_t jerr;
    json_t *spec = json_loads(text, 0, &jerr);
    if (!spec) {
        fprintf(stderr, "bad test JSON: %s: %s\n", text, jerr.text);
        return -2;
    }
    err_clear(err);
    int rc = controlapi_service_spec(spec, err);
    if (out)
        *out = spec;
    else
        json_decref(spec);
    return rc;
}

#define BASE "\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"bb\"}}"

static void test_valid_and_defaults(void)
{
    struct err err = {0};
    json_t *spec = NULL;
    CHECK_INT(validate("{\"Name\":\"web\"," BASE ",\"Bogus\":1,"
                       "\"EndpointSpec\":null}",
                       &spec, &err),
              0);
    CHECK(json_object_get(spec, "Bogus") == NULL);
    CHECK(json_object_get(spec, "EndpointSpec") == NULL);
    CHECK_INT(jx_path_int(spec, "Mode.Replicated.Replicas", -1), 1);
    CHECK(json_is_object(json_object_get(spec, "Labels")));
    json_decref(spec);

    CHECK_INT(validate("{" BASE "}", &spec, &err), 0);
    const char *name = jx_str(spec, "Name");
    CHECK(name && strchr(name, '_') != NULL);
    json_decref(spec);

    CHECK_INT(validate("{\"Name\":\"a\"," BASE
                       ",\"Mode\":{\"Replicated\":{\"Replicas\":0}}}",
                       NULL, &err),
              0);
}

static void test_type_errors(void)
{
    struct err err = {0};
    CHECK_INT(validate("{\"Name\":\"a\"," BASE
                       ",\"Mode\":{\"Replicated\":{\"Replicas\":-1}}}",
                       NULL, &err),
              -1);
    CHECK_INT(err.code, ERR_INVALID);
    CHECK_STR(err.msg, "json: cannot unmarshal number -1 into Go struct "
                       "field ServiceSpec.Mode.Replicated.Replicas of type "
                       "uint64");
    CHECK_INT(validate("{\"Name\":\"a\",\"TaskTemplate\":{\"ContainerSpec\":"
                       "{\"Image\":\"bb\",\"Args\":\"sh\"}}}",
                       NULL, &err),
              -1);
    CHECK(strstr(err.msg, "of type []string") != NULL);
    CHECK_INT(validate("[1,2]", NULL, &err), -1);
    CHECK_INT(err.code, ERR_INVALID);
    CHECK_INT(validate("{\"Name\":5," BASE "}", NULL, &err), -1);
}

static void test_semantic_errors(void)
{
    struct err err = {0};
    CHECK_INT(validate("{\"Name\":\"a\"}", NULL, &err), -1);
    CHECK(strstr(err.msg, "image reference must be provided") != NULL);
    CHECK_INT(validate("{\"Name\":\"bad.name\"," BASE "}", NULL, &err), -1);
    CHECK(strstr(err.msg, "valid as a DNS name") != NULL);
    CHECK_INT(validate("{\"Name\":\"t1_web\"," BASE "}", NULL, &err), 0);
    CHECK_INT(validate("{\"Name\":\"a\",\"TaskTemplate\":{\"ContainerSpec\":"
                       "{\"Image\":\"bb\"},\"RestartPolicy\":{\"Condition\":"
                       "\"sometimes\"}}}",
                       NULL, &err),
              -1);
    CHECK_STR(err.msg, "invalid RestartCondition type: sometimes");
    CHECK_INT(validate("{\"Name\":\"a\",\"TaskTemplate\":{\"ContainerSpec\":"
                       "{\"Image\":\"bb\",\"Mounts\":[{\"Type\":\"bind\","
                       "\"Source\":\"rel\",\"Target\":\"/x\"}]}}}",
                       NULL, &err),
              -1);
    CHECK(strstr(err.msg, "bind mount source") != NULL);
    /* dockerd's own words for a type it does not know. */
    CHECK_INT(validate("{\"Name\":\"a\",\"TaskTemplate\":{\"ContainerSpec\":"
                       "{\"Image\":\"bb\",\"Mounts\":[{\"Type\":\"foo\","
                       "\"Target\":\"/x\"}]}}}",
                       NULL, &err),
              -1);
    CHECK_INT(err.code, ERR_INVALID);
    CHECK_STR(err.msg, "invalid MountType: \"foo\"");
    /* The local driver's options, checked before any task is made. */
    CHECK_INT(validate("{\"Name\":\"a\",\"TaskTemplate\":{\"ContainerSpec\":"
                       "{\"Image\":\"bb\",\"Mounts\":[{\"Type\":\"volume\","
                       "\"Source\":\"v1\",\"Target\":\"/x\","
                       "\"VolumeOptions\":{\"DriverConfig\":{\"Options\":"
                       "{\"foo\":\"1\"}}}}]}}}",
                       NULL, &err),
              -1);
    CHECK_STR(err.msg,
              "invalid mount config for type \"volume\": invalid option: "
              "\"foo\"");
    CHECK_INT(validate("{\"Name\":\"a\",\"TaskTemplate\":{\"ContainerSpec\":"
                       "{\"Image\":\"bb\",\"Mounts\":[{\"Type\":\"volume\","
                       "\"Source\":\"v1\",\"Target\":\"/x\","
                       "\"VolumeOptions\":{\"DriverConfig\":{\"Name\":"
                       "\"nfs\"}}}]}}}",
                       NULL, &err),
              -1);
    CHECK(strstr(err.msg, "volume driver \"nfs\" is not supported") != NULL);
    CHECK_INT(validate("{\"Name\":\"a\",\"TaskTemplate\":{\"ContainerSpec\":"
                       "{\"Image\":\"bb\",\"Mounts\":[{\"Type\":\"volume\","
                       "\"Source\":\"v1\",\"Target\":\"/x\","
                       "\"VolumeOptions\":{\"DriverConfig\":{\"Name\":"
                       "\"local\",\"Options\":{\"type\":\"tmpfs\","
                       "\"device\":\"tmpfs\"}}}}]}}}",
                       NULL, &err),
              0);
    CHECK_INT(validate("{\"Name\":\"a\",\"TaskTemplate\":{\"ContainerSpec\":"
                       "{\"Image\":\"bb\"},\"Placement\":{\"Constraints\":"
                       "[\"node.role=manager\"]}}}",
                       NULL, &err),
              -1);
    CHECK(strstr(err.msg, "invalid constraint") != NULL);
    CHECK_INT(validate("{\"Name\":\"a\"," BASE ",\"Mode\":{\"Replicated\":"
                       "{},\"Global\":{}}}",
                       NULL, &err),
              -1);
    CHECK_INT(validate("{\"Name\":\"a\"," BASE ",\"EndpointSpec\":{\"Ports\":"
                       "[{\"TargetPort\":80,\"PublishedPort\":8080},"
                       "{\"TargetPort\":81,\"PublishedPort\":8080}]}}",
                       NULL, &err),
              -1);
    CHECK(strstr(err.msg, "duplicate published ports") != NULL);
    CHECK_INT(validate("{\"Name\":\"a\",\"TaskTemplate\":{\"ContainerSpec\":"
                       "{\"Image\":\"bb\",\"StopGracePeriod\":-1}}}",
                       NULL, &err),
              -1);
    CHECK_INT(validate("{\"Name\":\"a\",\"TaskTemplate\":{\"ContainerSpec\":"
                       "{\"Image\":\"bb\"},\"Resources\":{\"Limits\":"
                       "{\"MemoryBytes\":1024}}}}",
                       NULL, &err),
              -1);
    CHECK(strstr(err.msg, "Minimum memory limit") != NULL);
}

/* swarmkit's ^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$ and its 63-character
 * limit, for services and networks alike. */
static void test_names(void)
{
    static const char *const good[] = {
        "a",     "web", "t1_web", "t1-web",          "a__b",
        "a-_-b", "A9",  "9a",     "stack_service-1", "swarm_test_web-server",
        NULL};
    static const char *const bad[] = {"",    "_a",  "a_", "-a",  "a-",   "a.b",
                                      "a b", "a/b", "é",  "a:b", "a\tb", NULL};
    for (size_t i = 0; good[i]; i++) {
        struct err err = {0};
        CHECK(controlapi_valid_name(good[i]));
        CHECK_INT(controlapi_check_name(good[i], &err), 0);
    }
    for (size_t i = 0; bad[i]; i++) {
        struct err err = {0};
        CHECK(!controlapi_valid_name(bad[i]));
        CHECK_INT(controlapi_check_name(bad[i], &err), -1);
        CHECK_INT(err.code, ERR_INVALID);
        CHECK_STR(err.msg, "rpc error: code = InvalidArgument desc = name "
                           "must be valid as a DNS name component");
    }
    char name[80];
    memset(name, 'a', 63);
    name[63] = '\0';
    struct err err = {0};
    CHECK_INT(controlapi_check_name(name, &err), 0);
    name[31] = '_';
    CHECK_INT(controlapi_check_name(name, &err), 0);
    memset(name, 'b', 64);
    name[64] = '\0';
    CHECK_INT(controlapi_check_name(name, &err), -1);
    CHECK_STR(err.msg, "rpc error: code = InvalidArgument desc = name must "
                       "be 63 characters or fewer");
}

static void test_node_spec(void)
{
    struct err err = {0};
    json_t *spec = json_loads("{\"Role\":\"manager\",\"Availability\":"
                              "\"drain\",\"X\":1}",
                              0, NULL);
    CHECK_INT(controlapi_node_spec(spec, &err), 0);
    CHECK(json_object_get(spec, "X") == NULL);
    json_decref(spec);
    spec = json_loads("{\"Availability\":\"sleepy\"}", 0, NULL);
    CHECK_INT(controlapi_node_spec(spec, &err), -1);
    json_decref(spec);
}

int main(void)
{
    RUN(test_valid_and_defaults);
    RUN(test_type_errors);
    RUN(test_semantic_errors);
    RUN(test_names);
    RUN(test_node_spec);
    HARNESS_END();
}
