// SPDX-License-Identifier: Apache-2.0
// Unit tests for the builder's pure parts: the Dockerfile parser
// (builder/dockerfile.c), word expansion (builder/shellword.c),
// .dockerignore and glob matching (builder/ignore.c) and the build cache
// keys (builder/cachekey.c).
#include "base/mem.h"
#include "builder/cachekey.h"
#include "builder/dockerfile.h"
#include "builder/ignore.h"
#include "builder/shellword.h"
#include "harness.h"

static void test_seed_dockerfile(void)
{
    const char *text =
        "FROM python:3\n"
        "\n"
        "ENV SRV_PATH=/srv/www/html\n"
        "\n"
        "EXPOSE 8000\n"
        "\n"
        "RUN mkdir -p $SRV_PATH && \\\n"
        " groupadd -r -g 350 pythonsrv && \\\n"
        " useradd -r -m -u 350 -g 350 pythonsrv && \\\n"
        " echo \"Test file content\" > $SRV_PATH/test.txt && \\\n"
        " chown -R pythonsrv:pythonsrv $SRV_PATH\n"
        "\n"
        "WORKDIR $SRV_PATH\n"
        "\n"
        "CMD [ \"python3\", \"-m\", \"http.server\" ]\n";
    struct dockerfile df;
    struct err err = {0};
    CHECK_INT(dockerfile_parse(text, &df, &err), 0);
    CHECK_INT(df.n_instrs, 6);
    CHECK_INT(df.instrs[0].kind, DF_FROM);
    CHECK_STR(df.instrs[0].args[0], "python:3");
    CHECK_INT(df.instrs[1].kind, DF_ENV);
    CHECK_INT(df.instrs[1].n_args, 2);
    CHECK_STR(df.instrs[1].args[0], "SRV_PATH");
    CHECK_STR(df.instrs[1].args[1], "/srv/www/html");
    CHECK_INT(df.instrs[2].kind, DF_EXPOSE);
    CHECK_STR(df.instrs[2].args[0], "8000");
    CHECK_INT(df.instrs[3].kind, DF_RUN);
    CHECK_INT(df.instrs[3].line, 7);
    CHECK(!df.instrs[3].json);
    CHECK_INT(df.instrs[3].n_args, 1);
    CHECK(strstr(df.instrs[3].args[0], "mkdir -p $SRV_PATH &&  groupadd") !=
          NULL);
    CHECK(strstr(df.instrs[3].args[0], "chown -R pythonsrv:pythonsrv "
                                       "$SRV_PATH") != NULL);
    CHECK_INT(df.instrs[4].kind, DF_WORKDIR);
    CHECK_STR(df.instrs[4].args[0], "$SRV_PATH");
    CHECK_INT(df.instrs[5].kind, DF_CMD);
    CHECK(df.instrs[5].json);
    CHECK_INT(df.instrs[5].n_args, 3);
    CHECK_STR(df.instrs[5].args[2], "http.server");
    CHECK_STR(df.instrs[5].original,
              "CMD [ \"python3\", \"-m\", \"http.server\" ]");
    dockerfile_fini(&df);
}

static void test_forms_and_flags(void)
{
    const char *text = "ARG BASE=busybox\n"
                       "ARG V\n"
                       "from ${BASE} AS build\n"
                       "COPY --chown=1:2 --from=other a b /dst/\n"
                       "COPY [\"x y\", \"/z\"]\n"
                       "RUN [\"sh\", \"-c\", \"echo hi\"]\n"
                       "RUN [not json\n"
                       "SHELL [\"/bin/sh\", \"-ec\"]\n"
                       "ENV A=1 B=\"two words\" C='3'\n"
                       "ENV OLD value with spaces\n"
                       "LABEL a.b=c \"d e\"=f\n"
                       "HEALTHCHECK --interval=5s --retries=3 CMD wget -q x\n"
                       "HEALTHCHECK NONE\n"
                       "VOLUME /a /b\n"
                       "VOLUME [\"/c\"]\n"
                       "ENTRYPOINT []\n"
                       "USER nobody:nogroup\n"
                       "STOPSIGNAL SIGINT\n"
                       "ONBUILD RUN echo later\n";
    struct dockerfile df;
    struct err err = {0};
    CHECK_INT(dockerfile_parse(text, &df, &err), 0);
    if (err.code)
        fprintf(stderr, "%s\n", err.msg);
    CHECK_INT(df.n_instrs, 19);
    struct df_instr *in = df.instrs;
    CHECK_INT(in[0].kind, DF_ARG);
    CHECK_STR(in[0].args[0], "BASE");
    CHECK_STR(in[0].args[1], "busybox");
    CHECK_STR(in[1].args[0], "V");
    CHECK(in[1].args[1] == NULL);
    CHECK_INT(in[2].kind, DF_FROM);
    CHECK_INT(in[2].n_args, 3);
    CHECK_STR(in[2].args[2], "build");
    CHECK_INT(in[3].n_flags, 2);
    CHECK_STR(df_instr_flag(&in[3], "chown"), "1:2");
    CHECK_STR(df_instr_flag(&in[3], "from"), "other");
    CHECK(df_instr_flag(&in[3], "chmod") == NULL);
    CHECK_INT(in[3].n_args, 3);
    CHECK(in[4].json);
    CHECK_STR(in[4].args[0], "x y");
    CHECK(in[5].json);
    CHECK_INT(in[5].n_args, 3);
    CHECK(!in[6].json);
    CHECK_STR(in[6].args[0], "[not json");
    CHECK(in[7].json);
    CHECK_STR(in[7].args[1], "-ec");
    CHECK_INT(in[8].n_args, 6);
    CHECK_STR(in[8].args[3], "\"two words\"");
    CHECK_STR(in[8].args[5], "'3'");
    CHECK_INT(in[9].n_args, 2);
    CHECK_STR(in[9].args[0], "OLD");
    CHECK_STR(in[9].args[1], "value with spaces");
    CHECK_STR(in[10].args[2], "\"d e\"");
    CHECK_STR(in[10].args[3], "f");
    CHECK_STR(df_instr_flag(&in[11], "interval"), "5s");
    CHECK_STR(in[11].args[0], "CMD");
    CHECK_STR(in[11].args[1], "wget -q x");
    CHECK_STR(in[12].args[0], "NONE");
    CHECK_INT(in[13].n_args, 2);
    CHECK(in[14].json);
    CHECK(in[15].json);
    CHECK_INT(in[15].n_args, 0);
    CHECK_STR(in[16].args[0], "nobody:nogroup");
    CHECK_STR(in[17].args[0], "SIGINT");
    CHECK_STR(in[18].args[0], "RUN echo later");
    dockerfile_fini(&df);
}

static void test_comments_continuations_escape(void)
{
    const char *text = "# syntax=docker/dockerfile:1\n"
                       "# escape=`\n"
                       "\n"
                       "# a comment\n"
                       "FROM scratch\n"
                       "RUN echo a `\n"
                       "# comment inside\n"
                       "\n"
                       "    b \\ `   \n"
                       "  c\n"
                       "   # indented comment\n"
                       "COPY c:\\x \\y\r\n"
                       "RUN tail `";
    struct dockerfile df;
    struct err err = {0};
    CHECK_INT(dockerfile_parse(text, &df, &err), 0);
    CHECK_INT(df.escape, '`');
    CHECK_INT(df.n_instrs, 4);
    CHECK_STR(df.instrs[1].args[0], "echo a     b \\   c");
    CHECK_INT(df.instrs[1].line, 6);
    CHECK_INT(df.instrs[2].line, 12);
    CHECK_STR(df.instrs[2].args[0], "c:\\x");
    CHECK_STR(df.instrs[2].args[1], "\\y");
    CHECK_STR(df.instrs[3].args[0], "tail");
    dockerfile_fini(&df);

    /* A directive after a comment is a comment. */
    CHECK_INT(dockerfile_parse("# hello\n# escape=`\nFROM a\nRUN x \\\n y\n",
                               &df, &err),
              0);
    CHECK_INT(df.escape, '\\');
    CHECK_STR(df.instrs[1].args[0], "x  y");
    dockerfile_fini(&df);
}

static void test_errors(void)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"FROM a\nFOO bar\n", "dockerfile parse error line 2: unknown "
                              "instruction: FOO"},
        {"FROM a\n\nRUN\n", "line 3: RUN requires at least one argument"},
        {"FROM a b\n", "line 1: FROM requires either one or three"},
        {"FROM a\nCOPY x\n", "line 2: COPY requires at least two"},
        {"FROM a\nSHELL sh -c\n", "line 2: SHELL requires the arguments to "
                                  "be in JSON form"},
        {"FROM a\nENV\n", "line 2: ENV requires at least one argument"},
        {"FROM a\nENV a=b c\n", "line 2: syntax error - can't find = in "
                                "\"c\""},
        {"FROM a\nLABEL =x\n", "line 2: LABEL names can not be blank"},
        {"FROM a\nCOPY --nope=1 a b\n", "line 2: unknown flag: nope"},
        {"FROM a\nRUN --mount=type=cache x\n", "line 2: unknown flag: mount"},
        {"FROM a\nHEALTHCHECK PING x\n", "line 2: unknown type \"PING\""},
        {"FROM a\nONBUILD FROM b\n", "FROM isn't allowed as an ONBUILD"},
        {"RUN x\n", "line 1: no build stage in current context"},
        {"ARG x\n", "FROM missing"},
        {"# escape=x\nFROM a\n", "line 1: invalid escape token"},
        {"\n# just a comment\n", "the Dockerfile cannot be empty"},
        {"FROM a\nWORKDIR\n", "line 2: WORKDIR requires exactly one"},
        {"FROM a\nCOPY --from=a --from=b x y\n", "duplicate flag"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct dockerfile df;
        struct err err = {0};
        CHECK_INT(dockerfile_parse(bad[i].text, &df, &err), -1);
        CHECK_INT(err.code, 400);
        if (!strstr(err.msg, bad[i].msg)) {
            fprintf(stderr, "case %zu: got \"%s\"\n", i, err.msg);
            CHECK(false);
        }
        dockerfile_fini(&df);
    }
}

static const char *lookup(void *data, const char *name)
{
    (void)data;
    if (strcmp(name, "A") == 0)
        return "alpha";
    if (strcmp(name, "EMPTY") == 0)
        return "";
    if (strcmp(name, "P") == 0)
        return "/srv/www";
    return NULL;
}

static void test_expand(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"$A", "alpha"},
        {"${A}x", "alphax"},
        {"$Ax", ""},
        {"$P/test.txt", "/srv/www/test.txt"},
        {"${NOPE:-def}", "def"},
        {"${EMPTY:-def}", "def"},
        {"${EMPTY-def}", ""},
        {"${NOPE-def}", "def"},
        {"${A:-def}", "alpha"},
        {"${A:+set}", "set"},
        {"${EMPTY:+set}", ""},
        {"${EMPTY+set}", "set"},
        {"${NOPE:+set}", ""},
        {"${NOPE:-${A}-${P}}", "alpha-/srv/www"},
        {"'$A'", "$A"},
        {"\"$A b\"", "alpha b"},
        {"\"\\$A\"", "$A"},
        {"\\$A", "$A"},
        {"a\\ b", "a b"},
        {"\"two words\"", "two words"},
        {"cost $5", "cost "},
        {"$", "$"},
        {"a$", "a$"},
        {"$-x", "$-x"},
        {"\"a\\tb\"", "a\\tb"},
        {"${A:?}", "alpha"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct err err = {0};
        _cleanup_free_ char *out =
            shellword_expand(cases[i].in, '\\', lookup, NULL, &err);
        if (!out || strcmp(out, cases[i].out) != 0) {
            fprintf(stderr, "expand \"%s\": got \"%s\" (%s)\n", cases[i].in,
                    out ? out : "(null)", err.msg);
            CHECK(false);
        } else {
            CHECK(true);
        }
    }
    /* The backtick escape. */
    struct err err = {0};
    _cleanup_free_ char *w =
        shellword_expand("c:\\x `$A", '`', lookup, NULL, &err);
    CHECK_STR(w, "c:\\x $A");

    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"'open", "matching single-quote"},
        {"\"open", "matching double-quote"},
        {"${A", "missing '}'"},
        {"${A:-x", "missing '}'"},
        {"${A%x}", "unsupported modifier (%)"},
        {"${}", "missing name"},
        {"${NOPE:?must be set}", "NOPE: must be set"},
        {"${NOPE?}", "NOPE: is not allowed to be unset"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        err_clear(&err);
        char *out = shellword_expand(bad[i].in, '\\', lookup, NULL, &err);
        CHECK(out == NULL);
        free(out);
        CHECK_INT(err.code, 400);
        if (!strstr(err.msg, bad[i].msg)) {
            fprintf(stderr, "expand \"%s\": error \"%s\"\n", bad[i].in,
                    err.msg);
            CHECK(false);
        }
    }
}

static void test_ignore(void)
{
    _cleanup_free_ char *a = path_clean_rel("./a//b/../c/");
    CHECK_STR(a, "a/c");
    _cleanup_free_ char *b = path_clean_rel("/");
    CHECK_STR(b, ".");
    _cleanup_free_ char *c = path_clean_rel("../../x");
    CHECK_STR(c, "x");

    struct ignore ig;
    ignore_parse("# comment\n"
                 "\n"
                 "*.log\n"
                 "/build\n"
                 "secret/\n"
                 "secret/keep-*\n"
                 "!secret/keep-me\n"
                 "**/*.tmp\n"
                 "docs/**/draft\n"
                 "  spaced  \r\n",
                 &ig);
    CHECK_INT(ig.n, 8);
    CHECK(ignore_match(&ig, "x.log"));
    CHECK(!ignore_match(&ig, "sub/x.log")); /* '*' stays in one component */
    CHECK(ignore_match(&ig, "build"));
    CHECK(ignore_match(&ig, "build/out/a.o"));
    CHECK(!ignore_match(&ig, "src/build"));
    CHECK(ignore_match(&ig, "secret/key"));
    CHECK(ignore_match(&ig, "secret/keep-out"));
    CHECK(!ignore_match(&ig, "secret/keep-me"));
    CHECK(ignore_match(&ig, "a.tmp"));
    CHECK(ignore_match(&ig, "deep/er/a.tmp"));
    CHECK(ignore_match(&ig, "docs/draft"));
    CHECK(ignore_match(&ig, "docs/a/b/draft/x"));
    CHECK(!ignore_match(&ig, "docs/final"));
    CHECK(ignore_match(&ig, "spaced"));
    CHECK(!ignore_match(&ig, "Dockerfile"));
    CHECK(!ignore_match(&ig, "."));
    ignore_fini(&ig);

    CHECK(glob_match("*.txt", "a.txt"));
    CHECK(!glob_match("*.txt", "d/a.txt"));
    CHECK(glob_match("d/?.txt", "d/a.txt"));
    CHECK(glob_match("[a-c]*", "beta"));
    CHECK(!glob_match("[a-c]*", "delta"));
    CHECK(glob_match("a\\*", "a*"));
    CHECK(!glob_match("a\\*", "ab"));
    CHECK(glob_is_pattern("*.c"));
    CHECK(!glob_is_pattern("src/main.c"));
}

static void test_cache_keys(void)
{
    char k1[CACHEKEY_LEN], k2[CACHEKEY_LEN], k3[CACHEKEY_LEN];
    const char *env1[] = {"A=1", NULL};
    const char *env2[] = {"A=2", NULL};
    cachekey_step("sha256:p", "RUN echo", env1, "", k1);
    cachekey_step("sha256:p", "RUN echo", env1, "", k2);
    CHECK_STR(k1, k2);
    CHECK(strncmp(k1, "sha256:", 7) == 0);
    CHECK_INT(strlen(k1), 71);
    cachekey_step("sha256:p", "RUN echo", env2, "", k3);
    CHECK(strcmp(k1, k3) != 0); /* a build arg changes a RUN */
    cachekey_step("sha256:q", "RUN echo", env1, "", k3);
    CHECK(strcmp(k1, k3) != 0); /* another parent */
    cachekey_step("sha256:p", "RUN echo ", env1, "", k3);
    CHECK(strcmp(k1, k3) != 0);
    /* No ambiguity by concatenation. */
    cachekey_step("ab", "c", NULL, "", k1);
    cachekey_step("a", "bc", NULL, "", k2);
    CHECK(strcmp(k1, k2) != 0);
    cachekey_step("sha256:p", "COPY a /", NULL, "sha256:1", k1);
    cachekey_step("sha256:p", "COPY a /", NULL, "sha256:2", k2);
    CHECK(strcmp(k1, k2) != 0);

    /* Content: same bytes same hash; a changed byte, mode or name not. */
    char c[4][CACHEKEY_LEN];
    for (int v = 0; v < 4; v++) {
        struct cachekey_content h;
        cachekey_content_init(&h);
        cachekey_content_entry(&h, v == 3 ? "b.txt" : "a.txt",
                               v == 2 ? 0100755 : 0100644, 5, NULL);
        cachekey_content_data(&h, v == 1 ? "hellO" : "hello", 5);
        cachekey_content_final(&h, c[v]);
    }
    struct cachekey_content h;
    cachekey_content_init(&h);
    cachekey_content_entry(&h, "a.txt", 0100644, 5, NULL);
    cachekey_content_data(&h, "hel", 3);
    cachekey_content_data(&h, "lo", 2);
    char same[CACHEKEY_LEN];
    cachekey_content_final(&h, same);
    CHECK_STR(same, c[0]);
    CHECK(strcmp(c[0], c[1]) != 0);
    CHECK(strcmp(c[0], c[2]) != 0);
    CHECK(strcmp(c[0], c[3]) != 0);
    cachekey_content_init(&h);
    cachekey_content_fini(&h);
    CHECK(h.h == NULL);
}

int main(void)
{
    RUN(test_seed_dockerfile);
    RUN(test_forms_and_flags);
    RUN(test_comments_continuations_escape);
    RUN(test_errors);
    RUN(test_expand);
    RUN(test_ignore);
    RUN(test_cache_keys);
    HARNESS_END();
}
