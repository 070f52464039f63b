// SPDX-License-Identifier: Apache-2.0
// Unit tests for secrets and configs: the spec rules (manager/secretspec.c),
// the store's operations and snapshots, service references, what a worker
// is sent (daemon/dispatch_secrets.c) and the files a task gets
// (agent/taskfiles.c).
#include "harness.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/taskfiles.h"
#include "base/b64.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "daemon/dispatch_secrets.h"
#include "manager/secretspec.h"
#include "runtime/secretfs.h"
#include "store/store.h"
#include "store/txn.h"

static uint64_t next_index = 1;

static int commit(struct store *s, struct txn *t, struct err *err)
{
    size_t len;
    _cleanup_free_ char *data = txn_encode(t, &len);
    int rc = store_apply(s, next_index++, data, len, err);
    txn_fini(t);
    return rc;
}

static json_t *spec_of(const char *name, const char *plain)
{
    _cleanup_free_ char *b = b64_encode(plain, strlen(plain));
    return json_pack("{s:s, s:{s:s}, s:s}", "Name", name, "Labels", "k", "v",
                     "Data", b);
}

static void test_names(void)
{
    CHECK(secretspec_valid_name("a"));
    CHECK(secretspec_valid_name("db_password.v1"));
    CHECK(secretspec_valid_name("A-b_c.d9"));
    CHECK(!secretspec_valid_name(""));
    CHECK(!secretspec_valid_name("-a"));
    CHECK(!secretspec_valid_name("a-"));
    CHECK(!secretspec_valid_name("a/b"));
    CHECK(!secretspec_valid_name("a b"));
    CHECK(!secretspec_valid_name(".a"));
    char longname[70];
    memset(longname, 'x', 64);
    longname[64] = '\0';
    CHECK(secretspec_valid_name(longname));
    longname[64] = 'y';
    longname[65] = '\0';
    CHECK(!secretspec_valid_name(longname));
}

static void test_validate(void)
{
    struct err err = {0};
    _cleanup_json_ json_t *ok = spec_of("pw", "s3cr3t");
    json_object_set_new(ok, "Unknown", json_true());
    CHECK_INT(secretspec_validate(KIND_SECRET, ok, &err), 0);
    CHECK(!json_object_get(ok, "Unknown"));

    _cleanup_json_ json_t *bad = spec_of("bad/name", "x");
    CHECK_INT(secretspec_validate(KIND_SECRET, bad, &err), -1);
    CHECK_INT(err.code, ERR_INVALID);
    CHECK(strstr(err.msg, "invalid name, only 64 [a-zA-Z0-9-_.] characters") !=
          NULL);

    _cleanup_json_ json_t *noname = json_pack("{s:s}", "Data", "eA==");
    CHECK_INT(secretspec_validate(KIND_SECRET, noname, &err), -1);
    CHECK(strstr(err.msg, "name must be provided") != NULL);

    _cleanup_json_ json_t *empty = json_pack("{s:s}", "Name", "e");
    CHECK_INT(secretspec_validate(KIND_SECRET, empty, &err), -1);
    CHECK(strstr(err.msg, "secret data must be larger than 0 and less than "
                          "512000 bytes") != NULL);

    /* 500 KiB - 1 is the largest secret or config. */
    size_t n = SECRET_MAX_SIZE;
    char *big = xmalloc(n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    _cleanup_json_ json_t *over = spec_of("big", big);
    CHECK_INT(secretspec_validate(KIND_SECRET, over, &err), -1);
    CHECK(strstr(err.msg, "less than 512000 bytes") != NULL);
    _cleanup_json_ json_t *cfg = spec_of("big", big);
    CHECK_INT(secretspec_validate(KIND_CONFIG, cfg, &err), -1);
    CHECK(strstr(err.msg, "config data must be larger than 0 and less than "
                          "512000 bytes") != NULL);
    big[n - 1] = '\0';
    _cleanup_json_ json_t *fits = spec_of("big", big);
    CHECK_INT(secretspec_validate(KIND_SECRET, fits, &err), 0);
    free(big);

    _cleanup_json_ json_t *b64 =
        json_pack("{s:s, s:s}", "Name", "x", "Data", "not base64!");
    CHECK_INT(secretspec_validate(KIND_SECRET, b64, &err), -1);
    CHECK(strstr(err.msg, "base64") != NULL);

    _cleanup_json_ json_t *drv = spec_of("d", "x");
    json_object_set_new(drv, "Driver", json_pack("{s:s}", "Name", "vault"));
    CHECK_INT(secretspec_validate(KIND_SECRET, drv, &err), -1);
    CHECK(strstr(err.msg, "drivers are not supported") != NULL);

    _cleanup_json_ json_t *lab = spec_of("l", "x");
    json_object_set_new(lab, "Labels", json_pack("{s:i}", "k", 1));
    CHECK_INT(secretspec_validate(KIND_SECRET, lab, &err), -1);
}

static struct secret *make_secret(enum store_kind kind, const char *name,
                                  const char *plain)
{
    struct secret *x = secret_new(kind);
    id_new(x->meta.id);
    x->spec = spec_of(name, plain);
    struct err err = {0};
    CHECK_INT(secretspec_validate(kind, x->spec, &err), 0);
    x->name = jx_str(x->spec, "Name");
    return x;
}

static char *create(struct store *s, enum store_kind kind, const char *name,
                    const char *plain)
{
    struct secret *x = make_secret(kind, name, plain);
    struct txn t;
    txn_init(&t);
    txn_secret_create(&t, x);
    char *id = xstrdup(x->meta.id);
    secret_free(x);
    struct err err = {0};
    CHECK_INT(commit(s, &t, &err), 0);
    return id;
}

static void test_update_rules(void)
{
    struct secret *x = make_secret(KIND_SECRET, "pw", "one");
    struct err err = {0};
    json_t *labels = NULL;
    _cleanup_json_ json_t *same = jx_copy(x->spec);
    json_object_set_new(same, "Labels", json_pack("{s:s}", "new", "1"));
    CHECK_INT(secretspec_update(x, same, &labels, &err), 0);
    CHECK_STR(jx_str(labels, "new"), "1");
    _cleanup_json_ json_t *nodata = json_pack("{s:s}", "Name", "pw");
    CHECK_INT(secretspec_update(x, nodata, &labels, &err), 0);
    CHECK(labels == NULL);
    _cleanup_json_ json_t *renamed = jx_copy(x->spec);
    json_object_set_new(renamed, "Name", json_string("other"));
    CHECK_INT(secretspec_update(x, renamed, &labels, &err), -1);
    CHECK(strstr(err.msg, "only updates to Labels are allowed") != NULL);
    _cleanup_json_ json_t *newdata = spec_of("pw", "two");
    CHECK_INT(secretspec_update(x, newdata, &labels, &err), -1);
    secret_free(x);
}

static void test_store_ops(void)
{
    struct store *s = store_new();
    _cleanup_free_ char *id = create(s, KIND_SECRET, "pw", "s3cr3t");
    _cleanup_free_ char *cid = create(s, KIND_CONFIG, "pw", "key=value");
    CHECK_INT(store_count(s, KIND_SECRET), 1);
    CHECK_INT(store_count(s, KIND_CONFIG), 1);
    struct secret *x = store_secret_by_name(s, KIND_SECRET, "pw");
    CHECK(x && strcmp(x->meta.id, id) == 0);
    CHECK(store_secret(s, KIND_CONFIG, cid) != NULL);
    CHECK(store_secret(s, KIND_CONFIG, id) == NULL);

    /* The API form: no Data for secrets, Data for configs. */
    _cleanup_json_ json_t *j = secret_to_json(x, true);
    CHECK(jx_path(j, "Spec.Data") == NULL);
    CHECK_STR(jx_path_str(j, "Spec.Name"), "pw");
    CHECK(jx_path(j, "Version.Index") != NULL);
    _cleanup_json_ json_t *cj =
        secret_to_json(store_secret(s, KIND_CONFIG, cid), true);
    CHECK(jx_path_str(cj, "Spec.Data") != NULL);

    /* Same name again: refused at apply (409). */
    struct secret *dup = make_secret(KIND_SECRET, "pw", "other");
    struct txn t;
    txn_init(&t);
    txn_secret_create(&t, dup);
    secret_free(dup);
    struct err err = {0};
    CHECK_INT(commit(s, &t, &err), -1);
    CHECK_INT(err.code, ERR_CONFLICT);
    CHECK_STR(err.msg, "rpc error: code = AlreadyExists desc = secret pw "
                       "already exists");

    /* Labels with the version check. */
    uint64_t ver = x->meta.version;
    json_t *labels = json_pack("{s:s}", "a", "b");
    txn_init(&t);
    txn_secret_labels(&t, KIND_SECRET, id, ver + 5, labels);
    CHECK_INT(commit(s, &t, &err), -1);
    CHECK_STR(err.msg, "update out of sequence");
    txn_init(&t);
    txn_secret_labels(&t, KIND_SECRET, id, ver, labels);
    CHECK_INT(commit(s, &t, &err), 0);
    json_decref(labels);
    x = store_secret(s, KIND_SECRET, id);
    CHECK_STR(jx_path_str(x->spec, "Labels.a"), "b");
    CHECK(jx_path_str(x->spec, "Data") != NULL);

    /* A service that uses it: delete refused with swarmkit's words. */
    json_t *spec = json_pack("{s:s, s:{s:{s:s, s:[{s:s, s:s, s:{s:s}}]}}}",
                             "Name", "web", "TaskTemplate", "ContainerSpec",
                             "Image", "busybox", "Secrets", "SecretID", id,
                             "SecretName", "pw", "File", "Name", "pw");
    char sid[ID_LEN + 1];
    id_new(sid);
    txn_init(&t);
    txn_service_create(&t, sid, spec, NULL);
    CHECK_INT(commit(s, &t, &err), 0);
    json_decref(spec);
    txn_init(&t);
    txn_secret_delete(&t, KIND_SECRET, id);
    CHECK_INT(commit(s, &t, &err), -1);
    CHECK_INT(err.code, ERR_INVALID);
    CHECK_STR(err.msg, "rpc error: code = InvalidArgument desc = secret 'pw' "
                       "is in use by the following service: web");
    CHECK(store_secret(s, KIND_SECRET, id) != NULL);
    /* The config of the same name is another object: deleted. */
    txn_init(&t);
    txn_secret_delete(&t, KIND_CONFIG, cid);
    CHECK_INT(commit(s, &t, &err), 0);
    CHECK_INT(store_count(s, KIND_CONFIG), 0);

    /* Snapshots keep secrets (the whole store), and a filtered one only
     * what the filter accepts. */
    struct buf b;
    buf_init(&b);
    store_snapshot(s, &b);
    struct store *r = store_new();
    CHECK_INT(store_restore(r, b.data, b.len, &err), 0);
    struct secret *rx = store_secret_by_name(r, KIND_SECRET, "pw");
    CHECK(rx && strcmp(rx->meta.id, id) == 0);
    CHECK(rx && json_equal(rx->spec, x->spec));
    buf_fini(&b);
    store_free(r);

    txn_init(&t);
    txn_service_delete(&t, sid);
    CHECK_INT(commit(s, &t, &err), 0);
    txn_init(&t);
    txn_secret_delete(&t, KIND_SECRET, id);
    CHECK_INT(commit(s, &t, &err), 0);
    CHECK_INT(store_count(s, KIND_SECRET), 0);
    store_free(s);
}

static void test_refs(void)
{
    struct store *s = store_new();
    _cleanup_free_ char *id = create(s, KIND_SECRET, "pw", "s3cr3t");
    _cleanup_free_ char *cid = create(s, KIND_CONFIG, "app", "k=v");
    struct err err = {0};
    /* By name: resolved to the ID, defaults filled in. */
    _cleanup_json_ json_t *cs =
        json_pack("{s:[{s:s, s:{s:s}}], s:[{s:s, s:{s:s, s:s, s:s, s:i}}]}",
                  "Secrets", "SecretName", "pw", "File", "Name", "pw",
                  "Configs", "ConfigName", "app", "File", "Name",
                  "/etc/app.conf", "UID", "1000", "GID", "1000", "Mode", 0440);
    CHECK_INT(secretspec_resolve_refs(s, cs, &err), 0);
    json_t *r = json_array_get(json_object_get(cs, "Secrets"), 0);
    CHECK_STR(jx_str(r, "SecretID"), id);
    CHECK_STR(jx_path_str(r, "File.UID"), "0");
    CHECK_INT(jx_path_int(r, "File.Mode", 0), 0444);
    json_t *c = json_array_get(json_object_get(cs, "Configs"), 0);
    CHECK_STR(jx_str(c, "ConfigID"), cid);
    CHECK_INT(jx_path_int(c, "File.Mode", 0), 0440);
    CHECK(secretspec_refers(cs, KIND_SECRET, id));
    CHECK(!secretspec_refers(cs, KIND_SECRET, cid));

    /* Unknown names, all listed. */
    _cleanup_json_ json_t *unknown = json_pack(
        "{s:[{s:s, s:{s:s}}, {s:s, s:{s:s}}]}", "Secrets", "SecretName", "nope",
        "File", "Name", "a", "SecretName", "nada", "File", "Name", "b");
    CHECK_INT(secretspec_resolve_refs(s, unknown, &err), -1);
    CHECK_STR(err.msg, "rpc error: code = InvalidArgument desc = secrets not "
                       "found: nope, nada");
    /* An ID whose name does not match. */
    _cleanup_json_ json_t *mismatch =
        json_pack("{s:[{s:s, s:s, s:{s:s}}]}", "Secrets", "SecretID", id,
                  "SecretName", "other", "File", "Name", "a");
    CHECK_INT(secretspec_resolve_refs(s, mismatch, &err), -1);
    CHECK_STR(err.msg,
              "rpc error: code = InvalidArgument desc = secret not found: "
              "other");
    /* Conflicting targets, missing target, traversal, bad uid. */
    _cleanup_json_ json_t *conflict = json_pack(
        "{s:[{s:s, s:{s:s}}, {s:s, s:{s:s}}]}", "Secrets", "SecretName", "pw",
        "File", "Name", "x", "SecretName", "pw", "File", "Name", "x");
    CHECK_INT(secretspec_resolve_refs(s, conflict, &err), -1);
    CHECK(strstr(err.msg, "secret references 'pw' and 'pw' have a "
                          "conflicting target: 'x'") != NULL);
    _cleanup_json_ json_t *notarget =
        json_pack("{s:[{s:s}]}", "Secrets", "SecretName", "pw");
    CHECK_INT(secretspec_resolve_refs(s, notarget, &err), -1);
    CHECK(strstr(err.msg, "no target provided") != NULL);
    _cleanup_json_ json_t *dots =
        json_pack("{s:[{s:s, s:{s:s}}]}", "Secrets", "SecretName", "pw", "File",
                  "Name", "../../etc/passwd");
    CHECK_INT(secretspec_resolve_refs(s, dots, &err), -1);
    _cleanup_json_ json_t *uid =
        json_pack("{s:[{s:s, s:{s:s, s:s}}]}", "Secrets", "SecretName", "pw",
                  "File", "Name", "x", "UID", "root");
    CHECK_INT(secretspec_resolve_refs(s, uid, &err), -1);
    store_free(s);
}

/* A task of service svc on node with the given secret references. */
static void add_task(struct store *s, const char *svc_id, const char *node,
                     const char *secret_id, enum task_state desired)
{
    struct task *t = task_new();
    id_new(t->meta.id);
    snprintf(t->service_id, sizeof(t->service_id), "%s", svc_id);
    t->slot = 1;
    t->spec = json_pack("{s:{s:s, s:[{s:s, s:s, s:{s:s}}]}}", "ContainerSpec",
                        "Image", "busybox", "Secrets", "SecretID", secret_id,
                        "SecretName", "pw", "File", "Name", "pw");
    struct txn tx;
    txn_init(&tx);
    txn_task_create(&tx, t);
    struct err err = {0};
    CHECK_INT(commit(s, &tx, &err), 0);
    txn_init(&tx);
    txn_task_allocate(&tx, t->meta.id, NULL);
    txn_task_assign(&tx, t->meta.id, node);
    if (desired != TASK_RUNNING)
        txn_task_desired(&tx, t->meta.id, desired);
    CHECK_INT(commit(s, &tx, &err), 0);
    task_free(t);
}

static void test_worker_share(void)
{
    struct store *s = store_new();
    _cleanup_free_ char *id = create(s, KIND_SECRET, "pw", "s3cr3t");
    _cleanup_free_ char *other = create(s, KIND_SECRET, "unused", "zzz");
    char svc[ID_LEN + 1], n1[ID_LEN + 1], n2[ID_LEN + 1];
    id_new(svc);
    id_new(n1);
    id_new(n2);
    add_task(s, svc, n1, id, TASK_RUNNING);

    struct secret_set sent;
    secret_set_init(&sent);
    struct buf ops;
    buf_init(&ops);
    /* Node 1 needs the secret, once. */
    secret_set_sync(&sent, s, n1, &ops);
    CHECK(ops.len > 0);
    buf_append(&ops, "", 1);
    CHECK(strstr((char *)ops.data, "\"op\":\"secret.put\"") != NULL);
    CHECK(strstr((char *)ops.data, id) != NULL);
    CHECK(strstr((char *)ops.data, other) == NULL);
    buf_reset(&ops);
    secret_set_sync(&sent, s, n1, &ops);
    CHECK_INT(ops.len, 0);

    /* Node 2 runs nothing that uses it: gets nothing. */
    struct secret_set sent2;
    secret_set_init(&sent2);
    secret_set_sync(&sent2, s, n2, &ops);
    CHECK_INT(ops.len, 0);
    /* A task there that is shut down does not need it either. */
    add_task(s, svc, n2, id, TASK_SHUTDOWN);
    secret_set_sync(&sent2, s, n2, &ops);
    CHECK_INT(ops.len, 0);

    /* Node 1's task is shut down: the secret is dropped there. */
    const struct vec *mine = store_node_tasks(s, n1);
    struct task *t = mine->items[0];
    struct txn tx;
    txn_init(&tx);
    txn_task_desired(&tx, t->meta.id, TASK_SHUTDOWN);
    struct err err = {0};
    CHECK_INT(commit(s, &tx, &err), 0);
    secret_set_sync(&sent, s, n1, &ops);
    buf_append(&ops, "", 1);
    CHECK(strstr((char *)ops.data, "\"op\":\"secret.drop\"") != NULL);

    /* A worker's store applies what it is sent. */
    struct store *w = store_new();
    struct buf entry;
    buf_init(&entry);
    struct secret_set fresh;
    secret_set_init(&fresh);
    struct buf put;
    buf_init(&put);
    add_task(s, svc, n1, id, TASK_RUNNING);
    secret_set_sync(&fresh, s, n1, &put);
    buf_printf(&entry, "{\"ts\":1,\"ops\":[%.*s]}", (int)put.len,
               (const char *)put.data);
    CHECK_INT(store_apply(w, 5, entry.data, entry.len, &err), 0);
    struct secret *wx = store_secret(w, KIND_SECRET, id);
    CHECK(wx && strcmp(wx->name, "pw") == 0);
    CHECK(wx && jx_str(wx->spec, "Data") != NULL);
    buf_reset(&entry);
    buf_printf(&entry,
               "{\"ts\":2,\"ops\":[{\"op\":\"secret.drop\",\"id\":\"%s\"}]}",
               id);
    CHECK_INT(store_apply(w, 6, entry.data, entry.len, &err), 0);
    CHECK(store_secret(w, KIND_SECRET, id) == NULL);
    buf_fini(&entry);
    buf_fini(&put);
    store_free(w);

    secret_set_fini(&fresh);
    secret_set_fini(&sent);
    secret_set_fini(&sent2);
    buf_fini(&ops);
    store_free(s);
}

static void test_task_files(void)
{
    struct store *s = store_new();
    _cleanup_free_ char *id = create(s, KIND_SECRET, "pw", "s3cr3t\n");
    _cleanup_free_ char *cid = create(s, KIND_CONFIG, "app", "k=v\n");
    _cleanup_json_ json_t *cs = json_pack(
        "{s:[{s:s, s:s, s:{s:s, s:s, s:s, s:i}}, {s:s, s:s, s:{s:s, s:s, "
        "s:s, s:i}}], s:[{s:s, s:s, s:{s:s, s:s, s:s, s:i}}]}",
        "Secrets", "SecretID", id, "SecretName", "pw", "File", "Name", "pw",
        "UID", "0", "GID", "0", "Mode", 0444, "SecretID", id, "SecretName",
        "pw", "File", "Name", "/etc/pw.copy", "UID", "1000", "GID", "10",
        "Mode", 0400, "Configs", "ConfigID", cid, "ConfigName", "app", "File",
        "Name", "app", "UID", "0", "GID", "0", "Mode", 0444);
    struct taskfiles tf;
    struct err err = {0};
    CHECK_INT(taskfiles_build(s, cs, &tf, &err), 0);
    CHECK_INT(tf.n, 3);
    if (tf.n == 3) {
        CHECK_STR(tf.v[0].target, "/run/secrets/pw");
        CHECK_INT(tf.v[0].len, 7);
        CHECK(memcmp(tf.v[0].data, "s3cr3t\n", 7) == 0);
        CHECK_INT(tf.v[0].mode, 0444);
        CHECK_STR(tf.v[1].target, "/etc/pw.copy");
        CHECK_INT(tf.v[1].uid, 1000);
        CHECK_INT(tf.v[1].gid, 10);
        CHECK_INT(tf.v[1].mode, 0400);
        CHECK_STR(tf.v[2].target, "/app");
        CHECK_INT(tf.v[2].len, 4);
        CHECK(strcmp(tf.v[0].name, tf.v[1].name) != 0);
    }
    taskfiles_fini(&tf);
    /* A secret this node does not have: the task cannot be prepared. */
    _cleanup_json_ json_t *missing =
        json_pack("{s:[{s:s, s:s, s:{s:s}}]}", "Secrets", "SecretID",
                  "0123456789abcdefghijklmno", "SecretName", "gone", "File",
                  "Name", "gone");
    CHECK_INT(taskfiles_build(s, missing, &tf, &err), -1);
    CHECK(strstr(err.msg, "secret gone") != NULL);
    taskfiles_fini(&tf);
    /* None: nothing to do. */
    _cleanup_json_ json_t *none = json_pack("{s:s}", "Image", "busybox");
    CHECK_INT(taskfiles_build(s, none, &tf, &err), 0);
    CHECK_INT(tf.n, 0);
    taskfiles_fini(&tf);
    store_free(s);
}

/* The tmpfs itself (root only: it mounts, in a mount namespace of its
 * own so the host's mount table never sees it). */
static void test_secretfs(void)
{
    if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        fprintf(stderr, "test_secretfs: skipped (needs root)\n");
        return;
    }
    char base[] = "/tmp/test-secretfs-XXXXXX";
    CHECK(mkdtemp(base) != NULL);
    _cleanup_free_ char *dir = xasprintf("%s/task", base);
    struct secretfs_file files[] = {
        {.name = "s0",
         .data = "abc",
         .len = 3,
         .uid = 1000,
         .gid = 1001,
         .mode = 0400},
        {.name = "c0",
         .data = "k=v\n",
         .len = 4,
         .uid = 0,
         .gid = 0,
         .mode = 0444},
    };
    struct err err = {0};
    CHECK_INT(secretfs_create(dir, files, 2, &err), 0);
    struct stat st, bst;
    CHECK_INT(stat(dir, &st), 0);
    CHECK_INT(stat(base, &bst), 0);
    CHECK(st.st_dev != bst.st_dev); /* a mount of its own */
    CHECK_INT(st.st_mode & 07777, 0700);
    _cleanup_free_ char *f = xasprintf("%s/s0", dir);
    CHECK_INT(stat(f, &st), 0);
    CHECK_INT(st.st_mode & 07777, 0400);
    CHECK_INT(st.st_uid, 1000);
    CHECK_INT(st.st_gid, 1001);
    CHECK_INT(st.st_size, 3);
    /* Again (a restarted shoald preparing the same task): replaced. */
    CHECK_INT(secretfs_create(dir, files, 1, &err), 0);
    _cleanup_free_ char *c = xasprintf("%s/c0", dir);
    CHECK(access(c, F_OK) < 0);
    CHECK_INT(secretfs_remove(dir, &err), 0);
    CHECK(access(dir, F_OK) < 0);
    CHECK_INT(secretfs_remove(dir, &err), 0); /* nothing to do */
    /* A bad file name: refused, nothing left behind. */
    struct secretfs_file bad = {.name = "../x", .data = "x", .len = 1};
    CHECK_INT(secretfs_create(dir, &bad, 1, &err), -1);
    CHECK(access(dir, F_OK) < 0);
    CHECK_INT(rmdir(base), 0);
}

int main(void)
{
    RUN(test_names);
    RUN(test_validate);
    RUN(test_update_rules);
    RUN(test_store_ops);
    RUN(test_refs);
    RUN(test_worker_share);
    RUN(test_task_files);
    RUN(test_secretfs);
    HARNESS_END();
}
