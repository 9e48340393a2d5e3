# adtally: build, local stack, tests, fuzzing and benchmarks.

CC       ?= cc
CLANG    ?= clang
NPROC    := $(shell nproc 2>/dev/null || echo 2)
INCLUDES := -Isrc $(shell mariadb_config --include 2>/dev/null)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-format-truncation -MMD -MP $(INCLUDES)
LIBS     := -lrdkafka -lmariadb -lssl -lcrypto -lpthread -lm
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=all

SRC      := $(shell find src -name '*.c' ! -path src/main.c | sort)
HDR      := $(shell find src -name '*.h')
OBJ      := $(SRC:src/%.c=build/obj/%.o)
ASAN_OBJ := $(SRC:src/%.c=build/asan/%.o)
UNIT     := $(patsubst tests/unit/%.c,build/tests/%,$(wildcard tests/unit/test_*.c))
FUZZ     := $(patsubst fuzz/%.c,build/fuzz/%,$(wildcard fuzz/fuzz_*.c))
# C drivers that integration tests run against the real servers.
PROBES   := $(patsubst tests/integration/%.c,build/integration/%,\
              $(wildcard tests/integration/*.c))
FORMAT   := $(shell find src tests fuzz bench -name '*.[ch]' 2>/dev/null)

.PHONY: all deps up down status schema dims demo check unit probes fuzz-replay \
        fuzz format format-check bench clean

all: build/adtally

build/adtally: build/obj/main.o $(OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

build/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

build/asan/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -c -o $@ $<

build/tests/%: tests/unit/%.c $(ASAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -Itests/unit -o $@ $< $(ASAN_OBJ) $(LIBS)

build/integration/%: tests/integration/%.c $(ASAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $< $(ASAN_OBJ) $(LIBS)

# Fuzz targets: libFuzzer with ASan and UBSan, built by clang.
build/fuzz/%: fuzz/%.c $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -D_GNU_SOURCE -g -O1 $(INCLUDES) \
	    -fsanitize=fuzzer,address,undefined -o $@ $< $(SRC) $(LIBS)

deps:
	@stack/deps.sh

up: deps
	@stack/stack.sh up

down:
	@stack/stack.sh down

status:
	@stack/stack.sh status

schema: build/adtally up
	build/adtally schema apply

dims: schema
	build/adtally dims load data

demo: deps build/adtally
	@scripts/demo.sh

unit: $(UNIT)

probes: $(PROBES)

fuzz-replay: $(FUZZ)

# Runs every fuzz target for FUZZ_SECONDS (default 60) on its corpus.
FUZZ_SECONDS ?= 60
fuzz: $(FUZZ)
	@for f in $(FUZZ); do n=$${f##*/fuzz_}; mkdir -p build/fuzz-work/$$n build/fuzz-crash/$$n; \
	    echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	        -artifact_prefix=build/fuzz-crash/$$n/ \
	        build/fuzz-work/$$n fuzz/corpus/$$n || exit 1; done

format:
	clang-format -i $(FORMAT)

format-check:
	@clang-format --dry-run -Werror $(FORMAT)

# Installs what is missing, builds, starts the stack and runs every test.
check: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all unit probes fuzz-replay
	@stack/stack.sh up
	@tests/run.sh

bench: deps build/adtally
	@stack/stack.sh up
	@bench/run.sh

clean:
	rm -rf build

# Keep the sanitizer objects that unit tests and probes link, so a rebuild
# compiles only what changed.
.SECONDARY: $(ASAN_OBJ)

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d) build/obj/main.d

build/bench/%: bench/%.c $(OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(OBJ) $(LIBS)

# ---- the dashboard page that `adtally serve` serves (web/ -> web/dist):
# npm ci when package.json or the lock file change, then the esbuild
# script; nothing runs when web/dist is newer than every source.
WEB_SRC := web/build.mjs $(wildcard web/src/*)

.PHONY: web
all: web
demo: web

web: web/dist/.built

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web/dist/.built: web/node_modules/.installed $(WEB_SRC)
	cd web && node build.mjs
	@touch $@

# ---- the batch job and the scheduler (spark/, dags/): their tests, slow
# for a Spark JVM per run, apart from `make check`; a local Airflow
# (airflow standalone, web UI on AIRFLOW_PORT) over the local stack; the
# Spark job's speed against process.
AIRFLOW_PORT ?= 8080

.PHONY: check-slow airflow bench-spark

check-slow: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all probes
	@stack/stack.sh up
	@s=0; ADTALLY_SLOW=1 tests/run.sh integration/test_spark || s=1; \
	    ADTALLY_SLOW=1 tests/run.sh integration/test_airflow || s=1; \
	    exit $$s

airflow: deps build/adtally
	@stack/stack.sh up
	@mkdir -p var/airflow
	AIRFLOW_HOME=$(CURDIR)/var/airflow \
	    AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	    AIRFLOW__CORE__LOAD_EXAMPLES=False \
	    AIRFLOW__WEBSERVER__WEB_SERVER_PORT=$(AIRFLOW_PORT) \
	    ADTALLY_HOME=$(CURDIR) .venv-airflow/bin/airflow standalone

bench-spark: deps build/adtally
	@stack/stack.sh up
	@bench/bench_spark.sh
