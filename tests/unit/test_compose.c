// SPDX-License-Identifier: Apache-2.0
// The compose core: YAML (anchors, merge keys, types, errors with lines),
// versions, interpolation and its edge cases, .env and env_file, the
// v3.13 schema's errors, short syntaxes, merging several files, and the
// conversion of every supported key into the Engine API JSON the docker
// CLI sends (the stack trace's bodies byte for byte). Pure: files come from
// a fake reader.
#include "harness.h"

#include "base/b64.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "compose/compose.h"
#include "compose/compose_internal.h"

/* Files the fake reader knows: path -> content. */
static json_t *files;

static char *fake_read(void *ud, const char *path, size_t *len, struct err *err)
{
    (void)ud;
    const char *s = json_string_value(json_object_get(files, path));
    if (!s) {
        err_set(err, ERR_NOTFOUND, "open %s: no such file or directory", path);
        return NULL;
    }
    *len = strlen(s);
    return xstrdup(s);
}

static json_t *env;

static struct compose_opts opts(void)
{
    struct compose_opts o = {.env = env,
                             .workdir = "/srv/app",
                             .home = "/home/me",
                             .read = fake_read};
    return o;
}

/* Loads one or two files ("a.yml", "b.yml"). */
static int load2(const char *a, const char *b, struct compose_project *p,
                 struct err *err)
{
    struct compose_file f[2] = {{"a.yml", a, strlen(a)},
                                {"b.yml", b ? b : "", b ? strlen(b) : 0}};
    struct compose_opts o = opts();
    compose_project_init(p);
    err_clear(err);
    return compose_load(p, f, b ? 2 : 1, &o, err);
}

static int load(const char *a, struct compose_project *p, struct err *err)
{
    return load2(a, NULL, p, err);
}

/* The error of loading text, or "" if it loads. */
static const char *load_err(const char *text)
{
    static struct err err;
    struct compose_project p;
    int rc = load(text, &p, &err);
    compose_project_fini(&p);
    return rc == 0 ? "" : err.msg;
}

/* Loads and converts as stack "st"; NULL services with err on error. */
static int stack(const char *text, struct compose_stack *s, struct err *err)
{
    struct compose_project p;
    int rc = load(text, &p, err);
    struct compose_opts o = opts();
    if (rc == 0)
        rc = compose_convert(&p, "st", &o, s, err);
    compose_project_fini(&p);
    return rc;
}

/* The first service's spec of a one-service file (owned), or NULL. */
static json_t *service(const char *text)
{
    struct compose_stack s;
    struct err err = {0};
    if (stack(text, &s, &err) < 0) {
        fprintf(stderr, "  convert: %s\n", err.msg);
        return NULL;
    }
    json_t *svc = json_incref(json_array_get(s.services, 0));
    compose_stack_fini(&s);
    return svc;
}

static const char *convert_err(const char *text)
{
    static struct err err;
    struct compose_stack s;
    if (stack(text, &s, &err) < 0)
        return err.msg;
    compose_stack_fini(&s);
    return "";
}

static bool json_is(const json_t *got, const char *want_text)
{
    json_error_t je;
    json_t *want = json_loads(want_text, JSON_DECODE_ANY, &je);
    if (!want) {
        fprintf(stderr, "  bad expected JSON: %s\n", je.text);
        return false;
    }
    bool eq = json_equal((json_t *)got, want);
    if (!eq) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        fprintf(stderr, "  got:  %s\n  want: %s\n", g ? g : "(null)",
                want_text);
        free(g);
    }
    json_decref(want);
    return eq;
}

/* ---- the docker trace's teststack.yml -------------------------------- */

static const char teststack[] =
    "version: \"3.8\"\n"
    "\n"
    "services:\n"
    "  web:\n"
    "    image: bb:latest\n"
    "    command: [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"
    "    ports:\n"
    "      - \"8080:8080\"\n"
    "    deploy:\n"
    "      replicas: 2\n"
    "      restart_policy:\n"
    "        condition: on-failure\n"
    "\n"
    "  app:\n"
    "    image: bb:latest\n"
    "    command: [\"sleep\", \"100000\"]\n"
    "    environment:\n"
    "      APP_MODE: \"test\"\n"
    "    volumes:\n"
    "      - appdata:/data\n"
    "    networks:\n"
    "      - backend\n"
    "    deploy:\n"
    "      replicas: 3\n"
    "\n"
    "volumes:\n"
    "  appdata:\n"
    "\n"
    "networks:\n"
    "  backend:\n"
    "    driver: overlay\n";

static void test_trace_stack(void)
{
    struct compose_project p;
    struct err err = {0};
    CHECK_INT(load(teststack, &p, &err), 0);
    struct compose_opts o = opts();
    struct compose_stack s;
    CHECK_INT(compose_convert(&p, "teststack", &o, &s, &err), 0);
    compose_project_fini(&p);
    /* the bodies of the trace's POST /networks/create and
     * /services/create, exactly */
    CHECK(json_is(s.networks,
                  "[{\"Driver\":\"overlay\",\"Scope\":\"\",\"IPAM\":null,"
                  "\"Internal\":false,\"Attachable\":false,\"Ingress\":false,"
                  "\"ConfigOnly\":false,\"ConfigFrom\":null,\"Options\":null,"
                  "\"Labels\":{\"com.docker.stack.namespace\":\"teststack\"},"
                  "\"Name\":\"teststack_backend\",\"CheckDuplicate\":true},"
                  "{\"Driver\":\"overlay\",\"Scope\":\"\",\"IPAM\":null,"
                  "\"Internal\":false,\"Attachable\":false,\"Ingress\":false,"
                  "\"ConfigOnly\":false,\"ConfigFrom\":null,\"Options\":null,"
                  "\"Labels\":{\"com.docker.stack.namespace\":\"teststack\"},"
                  "\"Name\":\"teststack_default\",\"CheckDuplicate\":true}]"));
    CHECK(json_is(
        json_array_get(s.services, 0),
        "{\"Name\":\"teststack_app\",\"Labels\":{\"com.docker.stack.image\":"
        "\"bb:latest\",\"com.docker.stack.namespace\":\"teststack\"},"
        "\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"bb:latest\","
        "\"Labels\":{\"com.docker.stack.namespace\":\"teststack\"},\"Args\":"
        "[\"sleep\",\"100000\"],\"Env\":[\"APP_MODE=test\"],\"Privileges\":"
        "{\"CredentialSpec\":null,\"SELinuxContext\":null,"
        "\"NoNewPrivileges\":false},\"Mounts\":[{\"Type\":\"volume\","
        "\"Source\":\"teststack_appdata\",\"Target\":\"/data\","
        "\"VolumeOptions\":{\"Labels\":{\"com.docker.stack.namespace\":"
        "\"teststack\"}}}]},\"Resources\":{},\"Placement\":{},\"Networks\":"
        "[{\"Target\":\"teststack_backend\",\"Aliases\":[\"app\"]}],"
        "\"ForceUpdate\":0},\"Mode\":{\"Replicated\":{\"Replicas\":3}},"
        "\"EndpointSpec\":{}}"));
    CHECK(json_is(
        json_array_get(s.services, 1),
        "{\"Name\":\"teststack_web\",\"Labels\":{\"com.docker.stack.image\":"
        "\"bb:latest\",\"com.docker.stack.namespace\":\"teststack\"},"
        "\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"bb:latest\","
        "\"Labels\":{\"com.docker.stack.namespace\":\"teststack\"},\"Args\":"
        "[\"httpd\",\"-f\",\"-p\",\"8080\",\"-h\",\"/www\"],\"Privileges\":"
        "{\"CredentialSpec\":null,\"SELinuxContext\":null,"
        "\"NoNewPrivileges\":false}},\"Resources\":{},\"RestartPolicy\":"
        "{\"Condition\":\"on-failure\"},\"Placement\":{},\"Networks\":"
        "[{\"Target\":\"teststack_default\",\"Aliases\":[\"web\"]}],"
        "\"ForceUpdate\":0},\"Mode\":{\"Replicated\":{\"Replicas\":2}},"
        "\"EndpointSpec\":{\"Ports\":[{\"Protocol\":\"tcp\",\"TargetPort\":"
        "8080,\"PublishedPort\":8080,\"PublishMode\":\"ingress\"}]}}"));
    CHECK_INT(json_array_size(s.external_networks), 0);
    CHECK_INT(json_array_size(s.secrets), 0);
    compose_stack_fini(&s);
}

/* ---- YAML ------------------------------------------------------------ */

static void test_yaml(void)
{
    struct compose_project p;
    struct err err = {0};
    /* anchors, aliases, merge keys (explicit keys win, earlier merged
     * mappings win over later ones), x- fields anywhere */
    CHECK_INT(load("version: '3.8'\n"
                   "x-defaults: &defaults\n"
                   "  image: bb\n"
                   "  environment: &env\n"
                   "    A: '1'\n"
                   "  deploy:\n"
                   "    replicas: 2\n"
                   "x-more: &more\n"
                   "  image: other\n"
                   "  user: nobody\n"
                   "services:\n"
                   "  web:\n"
                   "    <<: [*defaults, *more]\n"
                   "    hostname: web\n"
                   "    x-note: anything goes here\n"
                   "  api:\n"
                   "    <<: *defaults\n"
                   "    image: api\n"
                   "    environment: *env\n"
                   "networks:\n"
                   "  front:\n"
                   "    x-meta: {a: 1}\n",
                   &p, &err),
              0);
    json_t *web = jx_path(p.config, "services.web");
    CHECK_STR(jx_str(web, "image"), "bb");
    CHECK_STR(jx_str(web, "user"), "nobody");
    CHECK_STR(jx_str(web, "hostname"), "web");
    CHECK_INT(jx_path_int(web, "deploy.replicas", 0), 2);
    CHECK_STR(jx_path_str(web, "environment.A"), "1");
    json_t *api = jx_path(p.config, "services.api");
    CHECK_STR(jx_str(api, "image"), "api");
    CHECK_STR(jx_path_str(api, "environment.A"), "1");
    CHECK(json_object_get(p.config, "x-defaults") != NULL);
    compose_project_fini(&p);

    /* scalar types: plain ones typed, quoted ones strings, tags */
    CHECK_INT(load("services:\n"
                   "  s:\n"
                   "    image: bb\n"
                   "    labels:\n"
                   "      int: 0x1F\n"
                   "      oct: 0o17\n"
                   "      dec: 1_000\n"
                   "      float: 1.5e3\n"
                   "      quoted: '0x1F'\n"
                   "      yes: yes\n"
                   "      t: !!str 12\n"
                   "      n: ~\n"
                   "      e:\n",
                   &p, &err),
              0);
    json_t *labels = jx_path(p.config, "services.s.labels");
    CHECK_STR(jx_str(labels, "int"), "31");
    CHECK_STR(jx_str(labels, "oct"), "15");
    CHECK_STR(jx_str(labels, "dec"), "1000");
    CHECK_STR(jx_str(labels, "float"), "1500");
    CHECK_STR(jx_str(labels, "quoted"), "0x1F");
    CHECK_STR(jx_str(labels, "yes"), "yes");
    CHECK_STR(jx_str(labels, "t"), "12");
    CHECK_STR(jx_str(labels, "n"), "");
    CHECK_STR(jx_str(labels, "e"), "");
    compose_project_fini(&p);

    /* errors with their line */
    CHECK(!strncmp(load_err("services:\n  web:\n    image: [bb\n  db: {}\n"),
                   "a.yml:4: invalid YAML: ", 23));
    CHECK(strstr(load_err("services:\n  web: {}\n  web: {}\n"),
                 "a.yml:3: invalid YAML: duplicate key") != NULL);
    CHECK_STR(load_err("- a\n- b\n"),
              "a.yml:1: Top-level object must be a mapping");
    CHECK_STR(load_err(""), "a.yml: Top-level object must be a mapping");
    CHECK_STR(load_err("services:\n  web: *nope\n"),
              "a.yml:2: unknown anchor 'nope' referenced");
    CHECK_STR(load_err("services:\n  web:\n    <<: 3\n"),
              "a.yml:3: map merge requires map or sequence of maps as the "
              "value");
    CHECK(strstr(load_err("services:\n  ? [a]\n  : 1\n"),
                 "mapping keys must be strings") != NULL);
    /* text only: libfyaml is never handed invalid UTF-8 (it can loop on
     * "%\xee") or control characters */
    CHECK_STR(load_err("%\xee"), "a.yml:1: invalid YAML: invalid UTF-8");
    CHECK_STR(load_err("a: 1\nb: \xc0\xaf\n"),
              "a.yml:2: invalid YAML: invalid UTF-8");
    CHECK_STR(load_err("a: 1\n\nb: \x01\n"),
              "a.yml:3: invalid YAML: control characters are not allowed");
    CHECK_STR(load_err("services: {}\nx-t: \"\xc3\xa9\xe2\x82\xac\xf0\x9f"
                       "\x90\xb3\"\n"),
              "");
    /* a number too large for an integer is neither an integer nor UB */
    CHECK_STR(load_err("services:\n  w:\n    image: a\n    deploy:\n"
                       "      replicas: 1.9e83\n"),
              "a.yml:5: services.w.deploy.replicas must be a integer");
    /* a billion laughs is refused, not expanded */
    CHECK(strstr(load_err("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                          "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                          "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                          "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                          "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                          "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                          "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"),
                 "too large") != NULL);
}

/* ---- versions ------------------------------------------------------------ */

static void test_versions(void)
{
    static const char *const ok[] = {"",
                                     "version: '3'\n",
                                     "version: '3.0'\n",
                                     "version: '3.1'\n",
                                     "version: '3.8'\n",
                                     "version: '3.13'\n",
                                     NULL};
    for (const char *const *v = ok; *v; v++) {
        char text[200];
        snprintf(text, sizeof(text), "%sservices:\n  s:\n    image: bb\n", *v);
        CHECK_STR(load_err(text), "");
    }
    CHECK_STR(load_err("version: '2.4'\nservices: {}\n"),
              "a.yml:1: unsupported Compose file version: 2.4");
    CHECK_STR(load_err("version: '3.14'\n"),
              "a.yml:1: unsupported Compose file version: 3.14");
    CHECK_STR(load_err("version: [3]\n"), "a.yml:1: version must be a string");
    /* unquoted, 3.8 is a number: the schema wants a string */
    CHECK_STR(load_err("version: 3.8\n"), "a.yml:1: version must be a string");
    struct compose_project p;
    struct err err = {0};
    CHECK_INT(load("services: {}\n", &p, &err), 0);
    CHECK_STR(jx_str(p.config, "version"), "3.13");
    compose_project_fini(&p);
    CHECK_INT(load2("version: '3.8'\n", "version: '3.7'\n", &p, &err), -1);
    CHECK_STR(err.msg, "version mismatched between two composefiles : 3.8 "
                       "and 3.7");
    compose_project_fini(&p);
}

/* ---- interpolation ---------------------------------------------------------
 */

static char *subst(const char *t)
{
    static struct err err;
    err_clear(&err);
    char *s = cmp_substitute(t, env, NULL, &err);
    return s ? s : xasprintf("ERR %s", err.msg);
}

static void check_subst(const char *tmpl, const char *want)
{
    char *got = subst(tmpl);
    CHECK_STR(got, want);
    free(got);
}

static void test_interpolation(void)
{
    /* env: TAG=1.2, EMPTY="", HOME=/home/me */
    check_subst("img:$TAG", "img:1.2");
    check_subst("img:${TAG}", "img:1.2");
    check_subst("${UNSET}x", "x");
    check_subst("$UNSET-x", "-x");
    check_subst("${UNSET:-dflt}", "dflt");
    check_subst("${EMPTY:-dflt}", "dflt");
    check_subst("${EMPTY-dflt}", "");
    check_subst("${UNSET-dflt}", "dflt");
    check_subst("${TAG:-dflt}", "1.2");
    check_subst("${TAG:+alt}", "alt");
    check_subst("${EMPTY:+alt}", "");
    check_subst("${EMPTY+alt}", "alt");
    check_subst("${UNSET:-${TAG}}", "1.2");
    check_subst("${UNSET:-a-b c}", "a-b c");
    check_subst("$$TAG $${TAG} $$", "$TAG ${TAG} $");
    check_subst("cost $5, 100% $ end$", "cost $5, 100% $ end$");
    check_subst("${TAG}${TAG}", "1.21.2");
    check_subst("${TAG?must}", "1.2");
    check_subst("${EMPTY?must}", "");
    check_subst("${UNSET:?must be set}",
                "ERR required variable UNSET is missing a value: must be "
                "set");
    check_subst("${EMPTY:?}", "ERR required variable EMPTY is missing a "
                              "value");
    check_subst("${UNSET?}", "ERR required variable UNSET is missing a value");
    char *bad = subst("${");
    CHECK(strstr(bad, "ERR invalid interpolation format") != NULL);
    free(bad);
    bad = subst("${1A}");
    CHECK(strstr(bad, "invalid interpolation format") != NULL);
    free(bad);
    bad = subst("${A B}");
    CHECK(strstr(bad, "invalid interpolation format") != NULL);
    free(bad);
    bad = subst("${TAG");
    CHECK(strstr(bad, "invalid interpolation format") != NULL);
    free(bad);

    /* in a file: every string value, keys left alone; the casts of typed
     * values; errors naming the key and line; a warning per unset name */
    struct compose_project p;
    struct err err = {0};
    json_object_set_new(env, "N", json_string("4"));
    json_object_set_new(env, "RO", json_string("yes"));
    CHECK_INT(load("services:\n"
                   "  web:\n"
                   "    image: bb:${TAG}\n"
                   "    read_only: ${RO}\n"
                   "    user: ${NOUSER}\n"
                   "    hostname: ${NOUSER}x\n"
                   "    labels:\n"
                   "      $TAG: v\n"
                   "    ports:\n"
                   "      - target: ${N}\n"
                   "        published: '80${N}'\n"
                   "    deploy:\n"
                   "      replicas: ${N}\n",
                   &p, &err),
              0);
    json_t *web = jx_path(p.config, "services.web");
    CHECK_STR(jx_str(web, "image"), "bb:1.2");
    CHECK(json_is_true(json_object_get(web, "read_only")));
    CHECK_STR(jx_str(web, "user"), "");
    CHECK(json_is(jx_path(web, "deploy.replicas"), "4"));
    CHECK(json_is(json_object_get(web, "ports"),
                  "[{\"target\": 4, \"published\": 804}]"));
    CHECK(jx_path(web, "labels.$TAG") != NULL);
    CHECK_INT(p.warnings.len, 1);
    CHECK_STR(p.warnings.items[0], "The \"NOUSER\" variable is not set. "
                                   "Defaulting to a blank string.");
    compose_project_fini(&p);
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n"
                       "    user: ${NOUSER:?give a user}\n"),
              "a.yml:4: error while interpolating services.web.user: "
              "required variable NOUSER is missing a value: give a user");
    CHECK_STR(load_err("services:\n  web:\n    image: \"${\"\n"),
              "a.yml:3: invalid interpolation format for services.web.image: "
              "\"${\"; you may need to escape any $ with another $");
    /* a cast that does not parse leaves a string the schema refuses */
    json_object_set_new(env, "N", json_string("four"));
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n    deploy:\n"
                       "      replicas: ${N}\n"),
              "a.yml:5: services.web.deploy.replicas must be a integer");
    json_object_del(env, "N");
    json_object_del(env, "RO");
}

static void test_dotenv(void)
{
    json_t *out = json_pack("{s:s}", "KEEP", "from-env");
    struct err err = {0};
    const char text[] = "# comment\n"
                        "\n"
                        "A=1\n"
                        "export B = two words  # note\n"
                        "C='single $A # kept'\n"
                        "D=\"dq ${A}\\n\\\"x\\\"\"\n"
                        "E=ref-$A\n"
                        "KEEP=from-file\n"
                        "F=\n"
                        "G.H-I=dotted\r\n";
    CHECK_INT(compose_dotenv_parse(".env", text, sizeof(text) - 1, out, &err),
              0);
    CHECK_STR(jx_str(out, "A"), "1");
    CHECK_STR(jx_str(out, "B"), "two words");
    CHECK_STR(jx_str(out, "C"), "single $A # kept");
    CHECK_STR(jx_str(out, "D"), "dq 1\n\"x\"");
    CHECK_STR(jx_str(out, "E"), "ref-1");
    CHECK_STR(jx_str(out, "KEEP"), "from-env");
    CHECK_STR(jx_str(out, "F"), "");
    CHECK_STR(jx_str(out, "G.H-I"), "dotted");
    CHECK_INT(compose_dotenv_parse(".env", "X='open\n", 8, out, &err), -1);
    CHECK_STR(err.msg, ".env:1: unterminated quoted value");
    CHECK_INT(compose_dotenv_parse(".env", "ok=1\n9X=1\n", 10, out, &err), -1);
    CHECK_STR(err.msg, ".env:2: invalid variable name in \"9X=1\"");
    CHECK_INT(compose_dotenv_parse(".env", "A B=1\n", 6, out, &err), -1);
    CHECK(strstr(err.msg, ".env:1: unexpected character") != NULL);
    json_decref(out);

    /* env_file: docker's format, values verbatim */
    out = json_object();
    const char ef[] = "  X=' q '\nY\nZ\n#c\nW=a=b\n";
    CHECK_INT(cmp_envfile_parse("e.env", ef, sizeof(ef) - 1, env, out, &err),
              0);
    json_decref(out);
    out = json_object();
    json_object_set_new(env, "Y", json_string("from-env"));
    CHECK_INT(cmp_envfile_parse("e.env", ef, sizeof(ef) - 1, env, out, &err),
              0);
    CHECK(json_is(out, "{\"X\": \"' q '\", \"Y\": \"from-env\", \"W\": "
                       "\"a=b\"}"));
    json_object_del(env, "Y");
    CHECK_INT(cmp_envfile_parse("e.env", "A B=1", 5, env, out, &err), -1);
    CHECK_STR(err.msg, "e.env:1: variable 'A B' contains whitespaces");
    CHECK_INT(cmp_envfile_parse("e.env", "=1", 2, env, out, &err), -1);
    CHECK_STR(err.msg, "e.env:1: no variable name on line '=1'");
    json_decref(out);
}

/* ---- the schema -------------------------------------------------------- */

static void test_schema(void)
{
    CHECK_STR(load_err("version: '3.8'\nservices:\n  web:\n    image: bb\n"
                       "    foo: 1\n"),
              "a.yml:5: services.web Additional property foo is not "
              "allowed");
    CHECK_STR(load_err("services: {}\nbogus: 1\n"),
              "a.yml:2: (root) Additional property bogus is not allowed");
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n    deploy:\n"
                       "      replicas: [1]\n"),
              "a.yml:5: services.web.deploy.replicas must be a integer");
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n    deploy:\n"
                       "      resources:\n        limits:\n"
                       "          cpus: 0.5\n"),
              "a.yml:7: services.web.deploy.resources.limits.cpus must be a "
              "string");
    CHECK_STR(load_err("services: []\n"),
              "a.yml:1: services must be a mapping");
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n"
                       "    environment: 3\n"),
              "a.yml:4: services.web.environment must be a mapping or list");
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n"
                       "    environment:\n      DEBUG: true\n"),
              "a.yml:5: services.web.environment.DEBUG must be a string, "
              "number or null");
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n    ports:\n"
                       "      - true\n"),
              "a.yml:5: services.web.ports.0 must be a number, string or "
              "mapping");
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n    ports:\n"
                       "      - target: 80\n        bogus: 1\n"),
              "a.yml:6: services.web.ports.0 Additional property bogus is not "
              "allowed");
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n    ports:\n"
                       "      - \"80:80\"\n      - \"80:80\"\n"),
              "a.yml:6: services.web.ports array items[0,1] must be unique");
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n    ports:\n"
                       "      - \"80:eighty\"\n"),
              "a.yml:5: services.web.ports.0 Does not match format 'ports'");
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n"
                       "    stop_grace_period: ten\n"),
              "a.yml:4: services.web.stop_grace_period Does not match format "
              "'duration'");
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n    deploy:\n"
                       "      update_config:\n        order: random\n"),
              "a.yml:6: services.web.deploy.update_config.order must be one "
              "of the following: \"start-first\", \"stop-first\"");
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n    volumes:\n"
                       "      - source: x\n        target: /x\n"),
              "a.yml:5: services.web.volumes.0 type is required");
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n    ulimits:\n"
                       "      nofile:\n        soft: 1\n"),
              "a.yml:5: services.web.ulimits.nofile hard is required");
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n    volumes:\n"
                       "      - type: tmpfs\n        target: /t\n"
                       "        tmpfs:\n          size: -1\n"),
              "a.yml:8: services.web.volumes.0.tmpfs.size must be greater "
              "than or equal to 0");
    CHECK_STR(load_err("networks:\n  n:\n    driver: overlay\n"
                       "    internal: maybe\n"),
              "a.yml:4: networks.n.internal must be a boolean");
    /* options stack deploy refuses */
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n"
                       "    mem_limit: 1g\n"),
              "a.yml:4: Compose file contains unsupported option "
              "services.web.mem_limit: Set resource limits using "
              "deploy.resources");
}

/* ---- short syntaxes ---------------------------------------------------------
 */

static void check_ports(const char *spec, const char *want)
{
    struct err err = {0};
    json_t *p = cmp_parse_ports(spec, &err);
    if (!p) {
        char got[600];
        snprintf(got, sizeof(got), "ERR %s", err.msg);
        CHECK_STR(got, want);
        return;
    }
    CHECK(json_is(p, want));
    json_decref(p);
}

static void test_ports(void)
{
    check_ports("80", "[{\"mode\":\"ingress\",\"target\":80,\"published\":0,"
                      "\"protocol\":\"tcp\"}]");
    check_ports("8080:80/udp",
                "[{\"mode\":\"ingress\",\"target\":80,\"published\":8080,"
                "\"protocol\":\"udp\"}]");
    check_ports("127.0.0.1:8080:80",
                "[{\"mode\":\"ingress\",\"target\":80,\"published\":8080,"
                "\"protocol\":\"tcp\"}]");
    check_ports("[::1]:8080:80",
                "[{\"mode\":\"ingress\",\"target\":80,\"published\":8080,"
                "\"protocol\":\"tcp\"}]");
    check_ports("9000-9001:80-81",
                "[{\"mode\":\"ingress\",\"target\":80,\"published\":9000,"
                "\"protocol\":\"tcp\"},{\"mode\":\"ingress\",\"target\":81,"
                "\"published\":9001,\"protocol\":\"tcp\"}]");
    check_ports("9000-9001:80",
                "[{\"mode\":\"ingress\",\"target\":80,\"published\":9000,"
                "\"protocol\":\"tcp\"},{\"mode\":\"ingress\",\"target\":80,"
                "\"published\":9001,\"protocol\":\"tcp\"}]");
    check_ports("3000-3001",
                "[{\"mode\":\"ingress\",\"target\":3000,\"published\":0,"
                "\"protocol\":\"tcp\"},{\"mode\":\"ingress\",\"target\":3001,"
                "\"published\":0,\"protocol\":\"tcp\"}]");
    check_ports("80:80/tls", "ERR invalid proto: tls");
    check_ports("1.2.3:80:80", "ERR invalid IP address: 1.2.3");
    check_ports("9000-9002:80-81",
                "ERR invalid ranges specified for container and host Ports: "
                "80-81 and 9000-9002");
    check_ports("80:", "ERR no port specified: 80:<empty>");
    check_ports("70000", "ERR invalid containerPort: 70000");
    check_ports("x:80", "ERR invalid hostPort: x");
}

static void check_volume(const char *spec, const char *want)
{
    struct err err = {0};
    json_t *v = cmp_parse_volume(spec, &err);
    if (!v) {
        char got[600];
        snprintf(got, sizeof(got), "ERR %s", err.msg);
        CHECK_STR(got, want);
        return;
    }
    CHECK(json_is(v, want));
    json_decref(v);
}

static void test_volume_specs(void)
{
    check_volume("/data", "{\"type\":\"volume\",\"target\":\"/data\"}");
    check_volume("/d", "{\"type\":\"volume\",\"target\":\"/d\"}");
    check_volume("db:/data", "{\"type\":\"volume\",\"source\":\"db\","
                             "\"target\":\"/data\"}");
    check_volume("db:/data:ro,nocopy",
                 "{\"type\":\"volume\",\"source\":\"db\",\"target\":\"/data\","
                 "\"read_only\":true,\"volume\":{\"nocopy\":true}}");
    check_volume("./x:/x:rw,rshared,z",
                 "{\"type\":\"bind\",\"source\":\"./x\",\"target\":\"/x\","
                 "\"read_only\":false,\"bind\":{\"propagation\":"
                 "\"rshared\"}}");
    check_volume("", "ERR invalid empty volume spec");
    check_volume("a:b:c:d", "ERR invalid spec: a:b:c:d: too many colons");
    check_volume("a::b", "ERR invalid spec: a::b: empty section between "
                         "colons");

    struct err err = {0};
    json_t *w =
        cmp_shell_split("sh -c 'echo \"a b\"' \"x\\\"y\" z\\ w  ", &err);
    CHECK(json_is(w, "[\"sh\", \"-c\", \"echo \\\"a b\\\"\", \"x\\\"y\", "
                     "\"z w\"]"));
    json_decref(w);
    CHECK(cmp_shell_split("echo 'open", &err) == NULL);
    w = cmp_shell_split("", &err);
    CHECK(json_is(w, "[]"));
    json_decref(w);
    char *a = cmp_abs_path("/srv/app", "./data/../x//y/.");
    CHECK_STR(a, "/srv/app/x/y");
    free(a);
    a = cmp_abs_path("/srv/app", "/abs/./p");
    CHECK_STR(a, "/abs/p");
    free(a);
}

/* ---- conversion, key by key
 * --------------------------------------------------- */

static void test_convert_container(void)
{
    json_object_set_new(files, "/srv/app/web.env",
                        json_string("FROM_FILE=1\nOVER=file\nBLANK=\n"));
    json_object_set_new(env, "BLANK", json_string("from-env"));
    json_t *s = service("services:\n"
                        "  web:\n"
                        "    image: bb\n"
                        "    entrypoint: /bin/sh -c\n"
                        "    command: \"echo 'hello world'\"\n"
                        "    env_file: web.env\n"
                        "    environment:\n"
                        "      - OVER=compose\n"
                        "      - ONLY_NAME\n"
                        "      - TAG\n"
                        "    hostname: h1\n"
                        "    user: '1000:1000'\n"
                        "    working_dir: /w\n"
                        "    stop_grace_period: 1m30s\n"
                        "    stop_signal: SIGINT\n"
                        "    labels: [a=1, b]\n"
                        "    init: true\n"
                        "    read_only: true\n"
                        "    tty: true\n"
                        "    stdin_open: true\n"
                        "    isolation: default\n"
                        "    oom_score_adj: -100\n"
                        "    tmpfs: [/run, '/cache:size=64m,mode=1777']\n"
                        "    sysctls: [net.core.somaxconn=1024]\n"
                        "    ulimits:\n"
                        "      nproc: 65535\n"
                        "      nofile: {soft: 1024, hard: 2048}\n"
                        "    cap_add: [net_admin, CAP_SYS_TIME, chown]\n"
                        "    cap_drop: [ALL, chown]\n"
                        "    extra_hosts: ['db:10.0.0.5', 'v6:::1']\n"
                        "    dns: 8.8.8.8\n"
                        "    dns_search: [example.org]\n"
                        "    healthcheck:\n"
                        "      test: wget -q localhost\n"
                        "      interval: 10s\n"
                        "      timeout: 2s\n"
                        "      retries: 3\n"
                        "      start_period: 1s\n"
                        "      start_interval: 500ms\n"
                        "    logging:\n"
                        "      driver: json-file\n"
                        "      options: {max-size: 10m, max-file: 3}\n");
    CHECK(s != NULL);
    json_t *cs = jx_path(s, "TaskTemplate.ContainerSpec");
    CHECK_STR(jx_str(cs, "Image"), "bb");
    CHECK(json_is(json_object_get(s, "Labels"),
                  "{\"com.docker.stack.image\":\"bb\","
                  "\"com.docker.stack.namespace\":\"st\"}"));
    CHECK(json_is(json_object_get(cs, "Command"), "[\"/bin/sh\", \"-c\"]"));
    CHECK(json_is(json_object_get(cs, "Args"), "[\"echo\", \"hello world\"]"));
    CHECK(json_is(json_object_get(cs, "Env"),
                  "[\"BLANK=from-env\", \"FROM_FILE=1\", \"ONLY_NAME\", "
                  "\"OVER=compose\", \"TAG=1.2\"]"));
    CHECK_STR(jx_str(cs, "Hostname"), "h1");
    CHECK_STR(jx_str(cs, "User"), "1000:1000");
    CHECK_STR(jx_str(cs, "Dir"), "/w");
    CHECK_INT(jx_int(cs, "StopGracePeriod", 0), 90000000000LL);
    CHECK_STR(jx_str(cs, "StopSignal"), "SIGINT");
    CHECK(json_is(json_object_get(cs, "Labels"),
                  "{\"a\":\"1\",\"b\":\"\",\"com.docker.stack.namespace\":"
                  "\"st\"}"));
    CHECK(json_is_true(json_object_get(cs, "Init")));
    CHECK(json_is_true(json_object_get(cs, "ReadOnly")));
    CHECK(json_is_true(json_object_get(cs, "TTY")));
    CHECK(json_is_true(json_object_get(cs, "OpenStdin")));
    CHECK_STR(jx_str(cs, "Isolation"), "default");
    CHECK_INT(jx_int(cs, "OomScoreAdj", 0), -100);
    CHECK(json_is(json_object_get(cs, "Mounts"),
                  "[{\"Type\":\"tmpfs\",\"Target\":\"/run\"},{\"Type\":"
                  "\"tmpfs\",\"Target\":\"/cache\",\"TmpfsOptions\":"
                  "{\"SizeBytes\":67108864,\"Mode\":1023}}]"));
    CHECK(json_is(json_object_get(cs, "Sysctls"),
                  "{\"net.core.somaxconn\":\"1024\"}"));
    CHECK(json_is(json_object_get(cs, "Ulimits"),
                  "[{\"Name\":\"nofile\",\"Hard\":2048,\"Soft\":1024},"
                  "{\"Name\":\"nproc\",\"Hard\":65535,\"Soft\":65535}]"));
    CHECK(json_is(json_object_get(cs, "CapabilityAdd"),
                  "[\"CAP_CHOWN\", \"CAP_NET_ADMIN\", \"CAP_SYS_TIME\"]"));
    CHECK(json_is(json_object_get(cs, "CapabilityDrop"), "[\"ALL\"]"));
    CHECK(
        json_is(json_object_get(cs, "Hosts"), "[\"10.0.0.5 db\", \"::1 v6\"]"));
    CHECK(json_is(json_object_get(cs, "DNSConfig"),
                  "{\"Nameservers\":[\"8.8.8.8\"],\"Search\":"
                  "[\"example.org\"]}"));
    CHECK(json_is(json_object_get(cs, "Healthcheck"),
                  "{\"Test\":[\"CMD-SHELL\",\"wget -q localhost\"],"
                  "\"Interval\":10000000000,\"Timeout\":2000000000,"
                  "\"StartPeriod\":1000000000,\"StartInterval\":500000000,"
                  "\"Retries\":3}"));
    CHECK(json_is(jx_path(s, "TaskTemplate.LogDriver"),
                  "{\"Name\":\"json-file\",\"Options\":{\"max-file\":\"3\","
                  "\"max-size\":\"10m\"}}"));
    json_decref(s);
    json_object_del(env, "BLANK");

    s = service("services:\n  web:\n    image: bb\n    healthcheck:\n"
                "      disable: true\n");
    CHECK(json_is(jx_path(s, "TaskTemplate.ContainerSpec.Healthcheck"),
                  "{\"Test\":[\"NONE\"]}"));
    json_decref(s);
    s = service("services:\n  web:\n    image: bb\n    healthcheck:\n"
                "      test: [CMD, /bin/true]\n      retries: 2\n");
    CHECK(json_is(jx_path(s, "TaskTemplate.ContainerSpec.Healthcheck"),
                  "{\"Test\":[\"CMD\",\"/bin/true\"],\"Retries\":2}"));
    json_decref(s);
    /* an unquoted true is a boolean, which the schema refuses there */
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n    healthcheck:\n"
                       "      test: [CMD, true]\n"),
              "a.yml:5: services.web.healthcheck.test.1 must be a string");
    s = NULL;
    json_decref(s);
    s = service("services:\n  web:\n    image: bb\n"
                "    extra_hosts: {db: 10.0.0.5}\n"
                "    sysctls: {a.b: 1}\n");
    CHECK(json_is(jx_path(s, "TaskTemplate.ContainerSpec.Hosts"),
                  "[\"10.0.0.5 db\"]"));
    CHECK(json_is(jx_path(s, "TaskTemplate.ContainerSpec.Sysctls"),
                  "{\"a.b\":\"1\"}"));
    json_decref(s);
}

static void test_convert_deploy(void)
{
    json_t *s = service("services:\n"
                        "  web:\n"
                        "    image: bb\n"
                        "    deploy:\n"
                        "      mode: replicated\n"
                        "      replicas: 0\n"
                        "      endpoint_mode: DNSRR\n"
                        "      labels: {team: a}\n"
                        "      restart_policy:\n"
                        "        condition: any\n"
                        "        delay: 5s\n"
                        "        max_attempts: 3\n"
                        "        window: 1m\n"
                        "      update_config:\n"
                        "        parallelism: 2\n"
                        "        delay: 10s\n"
                        "        failure_action: rollback\n"
                        "        monitor: 30s\n"
                        "        max_failure_ratio: 0.5\n"
                        "        order: start-first\n"
                        "      rollback_config:\n"
                        "        order: stop-first\n"
                        "      resources:\n"
                        "        limits: {cpus: '0.5', memory: 50M, pids: 10}\n"
                        "        reservations:\n"
                        "          cpus: '0.25'\n"
                        "          memory: 20m\n"
                        "          generic_resources:\n"
                        "            - discrete_resource_spec:\n"
                        "                {kind: gpu, value: 2}\n"
                        "      placement:\n"
                        "        constraints: [node.role == manager]\n"
                        "        preferences: [{spread: node.labels.zone}]\n"
                        "        max_replicas_per_node: 2\n");
    CHECK(s != NULL);
    CHECK(json_is(json_object_get(s, "Mode"),
                  "{\"Replicated\":{\"Replicas\":0}}"));
    CHECK(json_is(json_object_get(s, "EndpointSpec"), "{\"Mode\":\"dnsrr\"}"));
    CHECK(json_is(json_object_get(s, "Labels"),
                  "{\"com.docker.stack.image\":\"bb\","
                  "\"com.docker.stack.namespace\":\"st\",\"team\":\"a\"}"));
    CHECK(json_is(jx_path(s, "TaskTemplate.RestartPolicy"),
                  "{\"Condition\":\"any\",\"Delay\":5000000000,"
                  "\"MaxAttempts\":3,\"Window\":60000000000}"));
    CHECK(json_is(json_object_get(s, "UpdateConfig"),
                  "{\"Parallelism\":2,\"Delay\":10000000000,"
                  "\"FailureAction\":\"rollback\",\"Monitor\":30000000000,"
                  "\"MaxFailureRatio\":0.5,\"Order\":\"start-first\"}"));
    CHECK(json_is(json_object_get(s, "RollbackConfig"),
                  "{\"Parallelism\":1,\"Order\":\"stop-first\"}"));
    CHECK(json_is(jx_path(s, "TaskTemplate.Resources"),
                  "{\"Limits\":{\"NanoCPUs\":500000000,\"MemoryBytes\":"
                  "52428800,\"Pids\":10},\"Reservations\":{\"NanoCPUs\":"
                  "250000000,\"MemoryBytes\":20971520,\"GenericResources\":"
                  "[{\"DiscreteResourceSpec\":{\"Kind\":\"gpu\",\"Value\":2}}]"
                  "}}"));
    CHECK(json_is(jx_path(s, "TaskTemplate.Placement"),
                  "{\"Constraints\":[\"node.role == manager\"],"
                  "\"Preferences\":[{\"Spread\":{\"SpreadDescriptor\":"
                  "\"node.labels.zone\"}}],\"MaxReplicas\":2}"));
    json_decref(s);
    s = service("services:\n  web:\n    image: bb\n    deploy:\n"
                "      mode: global\n");
    CHECK(json_is(json_object_get(s, "Mode"), "{\"Global\":{}}"));
    json_decref(s);
    s = service("services:\n  web:\n    image: bb\n    restart: always\n");
    CHECK(json_is(jx_path(s, "TaskTemplate.RestartPolicy"),
                  "{\"Condition\":\"any\"}"));
    json_decref(s);
    s = service("services:\n  web:\n    image: bb\n"
                "    restart: on-failure:4\n");
    CHECK(json_is(jx_path(s, "TaskTemplate.RestartPolicy"),
                  "{\"Condition\":\"on-failure\",\"MaxAttempts\":4}"));
    json_decref(s);
    s = service("services:\n  web:\n    image: bb\n    restart: 'no'\n");
    CHECK(jx_path(s, "TaskTemplate.RestartPolicy") == NULL);
    json_decref(s);
    CHECK_STR(convert_err("services:\n  web:\n    image: bb\n    deploy:\n"
                          "      mode: global\n      replicas: 2\n"),
              "a.yml:6: services.web.deploy.replicas: replicas can only be "
              "used with replicated or replicated-job mode");
    CHECK_STR(convert_err("services:\n  web:\n    image: bb\n    deploy:\n"
                          "      mode: sometimes\n"),
              "a.yml:5: services.web.deploy.mode: Unknown mode: sometimes");
    CHECK_STR(convert_err("services:\n  web:\n    image: bb\n    deploy:\n"
                          "      resources:\n        limits:\n"
                          "          memory: lots\n"),
              "a.yml:7: services.web.deploy.resources.limits.memory: invalid "
              "size: 'lots'");
    CHECK_STR(convert_err("services:\n  web:\n    image: bb\n"
                          "    restart: sometimes\n"),
              "a.yml:4: services.web.restart: unknown restart policy: "
              "sometimes");
    CHECK_STR(convert_err("services:\n  web:\n    command: x\n"),
              "a.yml:2: services.web: image is required (stack deploy does "
              "not build images)");
}

static void test_convert_ports_volumes(void)
{
    json_t *s = service("services:\n"
                        "  web:\n"
                        "    image: bb\n"
                        "    ports:\n"
                        "      - 9000:90\n"
                        "      - '53:53/udp'\n"
                        "      - 8080\n"
                        "      - target: 81\n"
                        "        published: 8081\n"
                        "        protocol: tcp\n"
                        "        mode: host\n"
                        "    volumes:\n"
                        "      - db:/data:ro\n"
                        "      - ./conf:/etc/conf:ro\n"
                        "      - ~/cache:/cache\n"
                        "      - /anon\n"
                        "      - type: tmpfs\n"
                        "        target: /t\n"
                        "        tmpfs: {size: 1000}\n"
                        "      - type: volume\n"
                        "        source: ext\n"
                        "        target: /ext\n"
                        "        volume: {nocopy: true}\n"
                        "      - type: bind\n"
                        "        source: /host\n"
                        "        target: /h\n"
                        "        bind: {propagation: rslave}\n"
                        "volumes:\n"
                        "  db:\n"
                        "    driver: local\n"
                        "    driver_opts: {type: tmpfs, device: tmpfs}\n"
                        "    labels: [x=y]\n"
                        "  ext:\n"
                        "    external: true\n"
                        "    name: shared-ext\n");
    CHECK(s != NULL);
    CHECK(json_is(jx_path(s, "EndpointSpec.Ports"),
                  "[{\"Protocol\":\"tcp\",\"TargetPort\":8080,"
                  "\"PublishedPort\":0,\"PublishMode\":\"ingress\"},"
                  "{\"Protocol\":\"udp\",\"TargetPort\":53,\"PublishedPort\":"
                  "53,\"PublishMode\":\"ingress\"},{\"Protocol\":\"tcp\","
                  "\"TargetPort\":81,\"PublishedPort\":8081,\"PublishMode\":"
                  "\"host\"},{\"Protocol\":\"tcp\",\"TargetPort\":90,"
                  "\"PublishedPort\":9000,\"PublishMode\":\"ingress\"}]"));
    CHECK(json_is(
        jx_path(s, "TaskTemplate.ContainerSpec.Mounts"),
        "[{\"Type\":\"volume\",\"Source\":\"st_db\",\"Target\":\"/data\","
        "\"ReadOnly\":true,\"VolumeOptions\":{\"Labels\":"
        "{\"com.docker.stack.namespace\":\"st\",\"x\":\"y\"},"
        "\"DriverConfig\":{\"Name\":\"local\",\"Options\":{\"device\":"
        "\"tmpfs\",\"type\":\"tmpfs\"}}}},"
        "{\"Type\":\"bind\",\"Source\":\"/srv/app/conf\",\"Target\":"
        "\"/etc/conf\",\"ReadOnly\":true},"
        "{\"Type\":\"bind\",\"Source\":\"/home/me/cache\",\"Target\":"
        "\"/cache\"},"
        "{\"Type\":\"volume\",\"Target\":\"/anon\"},"
        "{\"Type\":\"tmpfs\",\"Target\":\"/t\",\"TmpfsOptions\":"
        "{\"SizeBytes\":1000}},"
        "{\"Type\":\"volume\",\"Source\":\"shared-ext\",\"Target\":\"/ext\","
        "\"VolumeOptions\":{\"NoCopy\":true}},"
        "{\"Type\":\"bind\",\"Source\":\"/host\",\"Target\":\"/h\","
        "\"BindOptions\":{\"Propagation\":\"rslave\"}}]"));
    json_decref(s);
    CHECK_STR(convert_err("services:\n  web:\n    image: bb\n    volumes:\n"
                          "      - nope:/data\n"),
              "a.yml:5: services.web.volumes.0: undefined volume \"nope\"");
    CHECK_STR(convert_err("services:\n  web:\n    image: bb\n    volumes:\n"
                          "      - type: tmpfs\n        source: x\n"
                          "        target: /t\n"),
              "a.yml:5: services.web.volumes.0: invalid tmpfs source, source "
              "must be empty");
    CHECK_STR(convert_err("services:\n  web:\n    image: bb\n    volumes:\n"
                          "      - type: volume\n        source: db\n"
                          "        target: /t\n        bind: {}\n"
                          "volumes:\n  db:\n"),
              "a.yml:5: services.web.volumes.0: bind options are "
              "incompatible with type volume");
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n    volumes:\n"
                       "      - 'a::b'\n"),
              "a.yml:5: services.web.volumes.0 invalid spec: a::b: empty "
              "section between colons");
    CHECK_STR(load_err("services:\n  web:\n    image: bb\n    volumes:\n"
                       "      - type: bind\n        target: /x\n"),
              "a.yml:5: services.web.volumes.0: invalid mount config for type "
              "\"bind\": field Source must not be empty");
    CHECK_STR(load_err("volumes:\n  v:\n    external: true\n"
                       "    driver: local\n"),
              "a.yml:2: conflicting parameters \"external\" and \"driver\" "
              "specified for volume \"v\"");
}

static void test_convert_networks(void)
{
    struct compose_stack s;
    struct err err = {0};
    CHECK_INT(stack("services:\n"
                    "  web:\n"
                    "    image: bb\n"
                    "    networks:\n"
                    "      front:\n"
                    "        aliases: [www]\n"
                    "        driver_opts: {mtu: 1400}\n"
                    "      back:\n"
                    "      outside:\n"
                    "  db:\n"
                    "    image: bb\n"
                    "    networks: [back]\n"
                    "  plain:\n"
                    "    image: bb\n"
                    "networks:\n"
                    "  front:\n"
                    "    attachable: true\n"
                    "    internal: true\n"
                    "    labels: {tier: front}\n"
                    "    driver_opts: {encrypted: ''}\n"
                    "    ipam:\n"
                    "      driver: default\n"
                    "      config: [{subnet: 10.9.0.0/24}]\n"
                    "  back:\n"
                    "    name: custom-back\n"
                    "  outside:\n"
                    "    external:\n"
                    "      name: real-outside\n"
                    "  unused: {}\n",
                    &s, &err),
              0);
    CHECK(json_is(
        s.networks,
        "[{\"Driver\":\"overlay\",\"Scope\":\"\",\"IPAM\":null,\"Internal\":"
        "false,\"Attachable\":false,\"Ingress\":false,\"ConfigOnly\":false,"
        "\"ConfigFrom\":null,\"Options\":null,\"Labels\":"
        "{\"com.docker.stack.namespace\":\"st\"},\"Name\":\"custom-back\","
        "\"CheckDuplicate\":true},"
        "{\"Driver\":\"overlay\",\"Scope\":\"\",\"IPAM\":null,\"Internal\":"
        "false,\"Attachable\":false,\"Ingress\":false,\"ConfigOnly\":false,"
        "\"ConfigFrom\":null,\"Options\":null,\"Labels\":"
        "{\"com.docker.stack.namespace\":\"st\"},\"Name\":\"st_default\","
        "\"CheckDuplicate\":true},"
        "{\"Driver\":\"overlay\",\"Scope\":\"\",\"IPAM\":{\"Driver\":"
        "\"default\",\"Config\":[{\"Subnet\":\"10.9.0.0/24\"}]},\"Internal\":"
        "true,\"Attachable\":true,\"Ingress\":false,\"ConfigOnly\":false,"
        "\"ConfigFrom\":null,\"Options\":{\"encrypted\":\"\"},\"Labels\":"
        "{\"com.docker.stack.namespace\":\"st\",\"tier\":\"front\"},\"Name\":"
        "\"st_front\",\"CheckDuplicate\":true}]"));
    CHECK(json_is(s.external_networks, "[\"real-outside\"]"));
    json_t *web = json_array_get(s.services, 2);
    CHECK_STR(jx_str(web, "Name"), "st_web");
    CHECK(json_is(jx_path(web, "TaskTemplate.Networks"),
                  "[{\"Target\":\"custom-back\",\"Aliases\":[\"web\"]},"
                  "{\"Target\":\"real-outside\",\"Aliases\":[\"web\"]},"
                  "{\"Target\":\"st_front\",\"Aliases\":[\"www\",\"web\"],"
                  "\"DriverOpts\":{\"mtu\":\"1400\"}}]"));
    CHECK(
        json_is(jx_path(json_array_get(s.services, 1), "TaskTemplate.Networks"),
                "[{\"Target\":\"st_default\",\"Aliases\":[\"plain\"]}]"));
    compose_stack_fini(&s);
    CHECK_STR(convert_err("services:\n  web:\n    image: bb\n"
                          "    networks: [nope]\n"),
              "a.yml:4: services.web.networks.nope: undefined network "
              "\"nope\"");
    struct compose_project p;
    CHECK_INT(load("networks:\n  n:\n    external:\n      name: x\n", &p, &err),
              0);
    CHECK_INT(p.warnings.len, 1);
    CHECK_STR(p.warnings.items[0], "network n: network.external.name is "
                                   "deprecated in favor of network.name");
    compose_project_fini(&p);
    CHECK_STR(load_err("networks:\n  n:\n    name: y\n    external:\n"
                       "      name: x\n"),
              "a.yml:2: network n: network.external.name and network.name "
              "conflict; only use network.name");
}

static void test_convert_secrets(void)
{
    json_object_set_new(files, "/srv/app/pw.txt", json_string("s3cret"));
    json_object_set_new(files, "/srv/app/app.conf", json_string("k=v"));
    struct compose_stack s;
    struct err err = {0};
    CHECK_INT(stack("services:\n"
                    "  web:\n"
                    "    image: bb\n"
                    "    secrets:\n"
                    "      - pw\n"
                    "      - source: ext\n"
                    "        target: other\n"
                    "        uid: '100'\n"
                    "        gid: '101'\n"
                    "        mode: 0400\n"
                    "    configs:\n"
                    "      - source: conf\n"
                    "        target: /etc/app.conf\n"
                    "secrets:\n"
                    "  pw:\n"
                    "    file: ./pw.txt\n"
                    "    labels: {k: v}\n"
                    "  ext:\n"
                    "    external: true\n"
                    "configs:\n"
                    "  conf:\n"
                    "    file: app.conf\n",
                    &s, &err),
              0);
    char *b64 = b64_encode("s3cret", 6);
    char want[400];
    snprintf(want, sizeof(want),
             "[{\"Name\":\"st_pw\",\"Labels\":{\"com.docker.stack.namespace\":"
             "\"st\",\"k\":\"v\"},\"Data\":\"%s\"}]",
             b64);
    free(b64);
    CHECK(json_is(s.secrets, want));
    CHECK_INT(json_array_size(s.configs), 1);
    CHECK_STR(jx_str(json_array_get(s.configs, 0), "Name"), "st_conf");
    json_t *cs =
        jx_path(json_array_get(s.services, 0), "TaskTemplate.ContainerSpec");
    CHECK(json_is(json_object_get(cs, "Secrets"),
                  "[{\"File\":{\"Name\":\"other\",\"UID\":\"100\",\"GID\":"
                  "\"101\",\"Mode\":256},\"SecretName\":\"ext\"},"
                  "{\"File\":{\"Name\":\"pw\",\"UID\":\"0\",\"GID\":\"0\","
                  "\"Mode\":292},\"SecretName\":\"st_pw\"}]"));
    CHECK(json_is(json_object_get(cs, "Configs"),
                  "[{\"File\":{\"Name\":\"/etc/app.conf\",\"UID\":\"0\","
                  "\"GID\":\"0\",\"Mode\":292},\"ConfigName\":\"st_conf\"}]"));
    compose_stack_fini(&s);
    CHECK_STR(convert_err("services:\n  web:\n    image: bb\n"
                          "    secrets: [nope]\n"),
              "a.yml:4: services.web.secrets.0: undefined secret \"nope\"");
    CHECK_STR(convert_err("secrets:\n  pw:\n    file: ./missing\n"),
              "a.yml:2: secrets.pw: open /srv/app/missing: no such file or "
              "directory");
}

static void test_names(void)
{
    /* swarmkit's rule on the final names, before anything is sent */
    CHECK_STR(convert_err("services:\n  a.b:\n    image: bb\n"),
              "a.yml:2: services.a.b: the service name \"st_a.b\" must be "
              "valid as a DNS name component (letters, digits, '-' and '_')");
    CHECK_STR(convert_err("services:\n  web-:\n    image: bb\n"),
              "a.yml:2: services.web-: the service name \"st_web-\" must be "
              "valid as a DNS name component (letters, digits, '-' and '_')");
    char text[300];
    snprintf(text, sizeof(text), "services:\n  %0*d:\n    image: bb\n", 61, 0);
    CHECK(strstr(convert_err(text), "must be 63 characters or fewer") != NULL);
    CHECK_STR(convert_err("services:\n  w:\n    image: bb\n"
                          "    networks: [n]\nnetworks:\n  n:\n"
                          "    name: bad.name\n"),
              "a.yml:6: networks.n: the network name \"bad.name\" must be "
              "valid as a DNS name component (letters, digits, '-' and '_')");
    struct compose_project p;
    struct err err = {0};
    CHECK_INT(load("services:\n  w:\n    image: bb\n", &p, &err), 0);
    struct compose_opts o = opts();
    struct compose_stack s;
    CHECK_INT(compose_convert(&p, "bad.stack", &o, &s, &err), -1);
    CHECK_STR(err.msg, "invalid stack name: \"bad.stack\" (letters, digits, "
                       "'-' and '_', starting with a letter or digit)");
    CHECK_INT(compose_convert(&p, "ok-stack_2", &o, &s, &err), 0);
    CHECK_STR(jx_str(json_array_get(s.services, 0), "Name"), "ok-stack_2_w");
    compose_stack_fini(&s);
    compose_project_fini(&p);
}

static void test_ignored_options(void)
{
    struct compose_project p;
    struct err err = {0};
    CHECK_INT(load("services:\n"
                   "  web:\n"
                   "    image: bb\n"
                   "    build: .\n"
                   "    restart: always\n"
                   "    depends_on: [db]\n"
                   "    container_name: web1\n"
                   "    expose: ['80']\n"
                   "  db:\n"
                   "    image: bb\n"
                   "    privileged: true\n",
                   &p, &err),
              0);
    CHECK_INT(p.warnings.len, 2);
    CHECK_STR(p.warnings.items[0], "Ignoring unsupported options: build, "
                                   "depends_on, privileged, restart");
    CHECK_STR(p.warnings.items[1],
              "Ignoring deprecated options:\n\ncontainer_name: Setting the "
              "container name is not supported.\nexpose: Exposing ports is "
              "unnecessary - services on the same network can access each "
              "other's containers on any port.");
    compose_project_fini(&p);
}

/* ---- merging two files
 * ------------------------------------------------------- */

static void test_merge(void)
{
    struct compose_project p;
    struct err err = {0};
    CHECK_INT(load2("version: '3.8'\n"
                    "services:\n"
                    "  web:\n"
                    "    image: bb:1\n"
                    "    command: [a, b]\n"
                    "    environment: {A: '1', B: '2'}\n"
                    "    labels: [x=1]\n"
                    "    ports: ['80:80', '443:443']\n"
                    "    volumes: ['data:/data', '/logs']\n"
                    "    networks: [front]\n"
                    "    dns: [1.1.1.1]\n"
                    "    logging: {driver: json-file, options: {a: '1'}}\n"
                    "    deploy:\n"
                    "      replicas: 1\n"
                    "      placement: {constraints: [node.role==manager]}\n"
                    "  db:\n"
                    "    image: db\n"
                    "networks:\n"
                    "  front: {driver: overlay, labels: {a: b}}\n"
                    "volumes:\n"
                    "  data: {}\n",
                    "version: '3.8'\n"
                    "services:\n"
                    "  web:\n"
                    "    image: bb:2\n"
                    "    command: [c]\n"
                    "    environment: [B=3, C=4]\n"
                    "    ports:\n"
                    "      - '8080:80'\n"
                    "      - {target: 443, published: 443, mode: host}\n"
                    "    volumes: ['other:/data']\n"
                    "    networks: {back: {aliases: [w]}}\n"
                    "    dns: [8.8.8.8, 1.1.1.1]\n"
                    "    logging: {options: {b: '2'}}\n"
                    "    deploy:\n"
                    "      replicas: 3\n"
                    "      placement: {constraints: [node.labels.a==b]}\n"
                    "  cache:\n"
                    "    image: cache\n"
                    "networks:\n"
                    "  front: {attachable: true}\n"
                    "  back: {}\n"
                    "volumes:\n"
                    "  other: {}\n",
                    &p, &err),
              0);
    json_t *web = jx_path(p.config, "services.web");
    CHECK_STR(jx_str(web, "image"), "bb:2");
    CHECK(json_is(json_object_get(web, "command"), "[\"c\"]"));
    CHECK(json_is(json_object_get(web, "environment"),
                  "{\"A\":\"1\",\"B\":\"3\",\"C\":\"4\"}"));
    CHECK(json_is(json_object_get(web, "labels"), "{\"x\":\"1\"}"));
    CHECK(json_is(json_object_get(web, "ports"),
                  "[{\"mode\":\"ingress\",\"target\":80,\"published\":80,"
                  "\"protocol\":\"tcp\"},{\"mode\":\"ingress\",\"target\":80,"
                  "\"published\":8080,\"protocol\":\"tcp\"},{\"target\":443,"
                  "\"published\":443,\"mode\":\"host\"}]"));
    CHECK(json_is(json_object_get(web, "volumes"),
                  "[{\"type\":\"volume\",\"target\":\"/logs\"},{\"type\":"
                  "\"volume\",\"source\":\"other\",\"target\":\"/data\"}]"));
    CHECK(json_is(json_object_get(web, "networks"),
                  "{\"front\":null,\"back\":{\"aliases\":[\"w\"]}}"));
    CHECK(json_is(json_object_get(web, "dns"), "[\"1.1.1.1\",\"8.8.8.8\"]"));
    CHECK(json_is(json_object_get(web, "logging"),
                  "{\"driver\":\"json-file\",\"options\":{\"a\":\"1\","
                  "\"b\":\"2\"}}"));
    CHECK_INT(jx_path_int(web, "deploy.replicas", 0), 3);
    CHECK(json_is(jx_path(web, "deploy.placement.constraints"),
                  "[\"node.role==manager\",\"node.labels.a==b\"]"));
    CHECK_STR(jx_path_str(p.config, "services.db.image"), "db");
    CHECK_STR(jx_path_str(p.config, "services.cache.image"), "cache");
    /* top-level objects are replaced per name */
    CHECK(
        json_is(jx_path(p.config, "networks.front"), "{\"attachable\":true}"));
    CHECK(jx_path(p.config, "volumes.data") != NULL);
    /* locations: keys of the second file point into it */
    CHECK_STR(cmp_loc_find(&p.locs, "services.web.image"), "b.yml:4");
    CHECK_STR(cmp_loc_find(&p.locs, "services.db.image"), "a.yml:17");
    compose_project_fini(&p);

    /* a health check's test is replaced, its other keys merged */
    CHECK_INT(load2("services:\n  w:\n    image: a\n    healthcheck:\n"
                    "      test: [CMD, a]\n      retries: 2\n",
                    "services:\n  w:\n    healthcheck:\n"
                    "      test: b --check\n      interval: 5s\n",
                    &p, &err),
              0);
    CHECK(json_is(jx_path(p.config, "services.w.healthcheck"),
                  "{\"test\":[\"CMD-SHELL\",\"b --check\"],\"retries\":2,"
                  "\"interval\":\"5s\"}"));
    compose_project_fini(&p);

    /* logging with another driver replaces the whole block */
    CHECK_INT(load2("services:\n  w:\n    image: a\n    logging:\n"
                    "      driver: json-file\n      options: {a: '1'}\n",
                    "services:\n  w:\n    logging:\n      driver: syslog\n", &p,
                    &err),
              0);
    CHECK(json_is(jx_path(p.config, "services.w.logging"),
                  "{\"driver\":\"syslog\"}"));
    compose_project_fini(&p);

    /* an error in the second file names it */
    CHECK_INT(load2("services:\n  w:\n    image: a\n",
                    "services:\n  w:\n    imagee: a\n", &p, &err),
              -1);
    CHECK_STR(err.msg, "b.yml:3: services.w Additional property imagee is not "
                       "allowed");
    compose_project_fini(&p);
}

int main(void)
{
    files = json_object();
    env = json_pack("{s:s, s:s, s:s}", "TAG", "1.2", "EMPTY", "", "HOME",
                    "/home/me");
    RUN(test_trace_stack);
    RUN(test_yaml);
    RUN(test_versions);
    RUN(test_interpolation);
    RUN(test_dotenv);
    RUN(test_schema);
    RUN(test_ports);
    RUN(test_volume_specs);
    RUN(test_convert_container);
    RUN(test_convert_deploy);
    RUN(test_convert_ports_volumes);
    RUN(test_convert_networks);
    RUN(test_convert_secrets);
    RUN(test_names);
    RUN(test_ignored_options);
    RUN(test_merge);
    json_decref(files);
    json_decref(env);
    HARNESS_END();
}
