# shoal build: `make` builds build/shoald and build/shoal from one internal
# library (build/libshoal.a); `make test` runs every test suite;
# `make SAN=1` builds into build-san/ with ASan + UBSan.

PKGS := libuv raft jansson libfyaml openssl libnl-3.0 libnl-route-3.0 libnl-nf-3.0 \
        libnftables libarchive libcurl

ifeq ($(SAN),1)
B        := build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
OPT      := -O1
else
B        := build
SANFLAGS :=
OPT      := -O2
endif

CC      ?= cc
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
           -Wmissing-prototypes -Wvla -Wno-format-nonliteral \
           -Wno-format-truncation
HARDEN  := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS  := -std=gnu11 -g $(OPT) $(WARN) $(HARDEN) $(SANFLAGS) -D_GNU_SOURCE \
           -Isrc $(shell pkg-config --cflags $(PKGS))
LDFLAGS := -pie -Wl,-z,relro,-z,now $(SANFLAGS)
LDLIBS  := $(shell pkg-config --libs $(PKGS)) -lhttp_parser -lpthread -lm

LIB_SRCS  := $(sort $(wildcard src/*/*.c src/*/*/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(B)/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all test unit integration compat cluster fuzz format format-check \
        cppcheck clean demo

all: $(B)/shoald $(B)/shoal $(UNIT_BINS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/libshoal.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/shoald: $(B)/src/shoald.o $(B)/libshoal.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/shoal: $(B)/src/shoal.o $(B)/libshoal.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(B)/libshoal.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests: no root, milliseconds each.
unit: $(UNIT_BINS)
	@tests/run-unit $(B)/tests

# Integration and compatibility tests: root, shoald in namespace nodes.
integration: all
	@SHOAL_BUILD=$(B) tests/run-integration

compat: all
	@SHOAL_BUILD=$(B) tests/run-integration tests/compat

# Multi-node clusters: several shoald, each in its own namespaces, on a
# bridge in a namespace of the harness (tests/cluster/cluster.py).
cluster: all
	@SHOAL_BUILD=$(B) tests/run-integration tests/cluster

# Everything CI runs: the normal build's unit + integration + compat +
# cluster suites,
# the sanitizer build's unit + integration suites, the fuzzers briefly,
# formatting and static analysis.
test:
	@tests/run-all

# libFuzzer targets, built with clang into build-fuzz/.
fuzz:
	@tests/fuzz/run $(FUZZ_SRCS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

cppcheck:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	  --inline-suppr --std=c11 -D_GNU_SOURCE -Isrc \
	  --suppress=missingIncludeSystem src

demo: all
	@scripts/demo

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJS:.o=.d) $(B)/src/shoald.d $(B)/src/shoal.d \
         $(UNIT_SRCS:%.c=$(B)/%.d)
