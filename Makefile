# nutgen / nutapply. `make demo` and `make test` are all a user types: both
# run `make deps` first, which installs what is missing (Debian 12) and is a
# no-op when everything is present.
VERSION := 0.1.0

O   ?= build
BIN ?= bin
CC  ?= cc
SAN ?=

CFLAGS_BASE = -std=c11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
	      -DNUTGEN_VERSION=\"$(VERSION)\" -MMD -MP -pthread
ifeq ($(SAN),asan)
CFLAGS_BASE += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS_SAN := -fsanitize=address,undefined
endif
ifeq ($(SAN),fuzz)
CFLAGS_BASE += -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -DNG_FUZZING
LDFLAGS_SAN := -fsanitize=address,undefined
endif
CFLAGS  ?=
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS)
LDFLAGS ?=

# nutapply links only what the online half needs: no libcryptsetup, no ext2fs.
GEN_LIBS   := -lcjson -lssl -lcrypto -lcryptsetup -lext2fs -lcom_err -lz -lzstd -lpthread -lm
APPLY_LIBS := -lcjson -lssl -lcrypto -lcurl -lz -lpthread -lm
BF_LIBS    := -lcjson -lssl -lcrypto -lz -lpthread -lm

BF_SRC    := $(sort $(wildcard bundle-format/*.c))
GEN_SRC   := $(sort $(filter-out gen/main.c,$(wildcard gen/*.c)))
APPLY_SRC := $(sort $(filter-out apply/main.c,$(wildcard apply/*.c)))
UNIT_SRC  := $(sort $(wildcard tests/unit/*.c))
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))

BF_LIB    := $(O)/libbundleformat.a
GEN_LIB   := $(O)/libgen.a
APPLY_LIB := $(O)/libapply.a
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(filter tests/unit/bf_% tests/unit/gen_% tests/unit/apply_%,$(UNIT_SRC)))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(O)/fuzz/%,$(FUZZ_SRC))

.PHONY: all deps test check asan fuzz fuzz-build bench demo clean format unit
.SECONDARY:
all: $(BIN)/nutgen $(BIN)/nutapply

deps:
	@sh mk/deps.sh

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BF_LIB): $(BF_SRC:%.c=$(O)/%.o)
	@mkdir -p $(dir $@); rm -f $@
	ar rcs $@ $^
$(GEN_LIB): $(GEN_SRC:%.c=$(O)/%.o)
	@mkdir -p $(dir $@); rm -f $@
	ar rcs $@ $^
$(APPLY_LIB): $(APPLY_SRC:%.c=$(O)/%.o)
	@mkdir -p $(dir $@); rm -f $@
	ar rcs $@ $^

$(BIN)/nutgen: $(O)/gen/main.o $(GEN_LIB) $(BF_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $^ $(GEN_LIBS)
$(BIN)/nutapply: $(O)/apply/main.o $(APPLY_LIB) $(BF_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $^ $(APPLY_LIBS)

# Unit tests: tests/unit/bf_*.c link the shared library only, gen_*.c add
# nutgen's modules, apply_*.c nutapply's; each file is its own CUnit program.
$(O)/tests/bf_%: $(O)/tests/unit/bf_%.o $(BF_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $^ $(BF_LIBS) -lcunit
$(O)/tests/gen_%: $(O)/tests/unit/gen_%.o $(GEN_LIB) $(BF_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $^ $(GEN_LIBS) -lcunit
$(O)/tests/apply_%: $(O)/tests/unit/apply_%.o $(APPLY_LIB) $(BF_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $^ $(APPLY_LIBS) -lcunit

unit: all $(UNIT_BINS)

test check: deps
	@$(MAKE) --no-print-directory unit
	@O=$(O) BIN=$(BIN) sh tests/run.sh

asan: deps
	@$(MAKE) --no-print-directory O=build-asan BIN=build-asan/bin SAN=asan unit
	@O=build-asan BIN=build-asan/bin NG_ASAN=1 \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  sh tests/run.sh

# libFuzzer targets: tests/fuzz/fuzz_NAME.c, each run for FUZZ_SECONDS on a
# copy of its seed corpus tests/fuzz/corpus/NAME (the repo is never written).
FUZZ_SECONDS ?= 20
$(O)/fuzz/%: $(O)/tests/fuzz/%.o $(GEN_LIB) $(APPLY_LIB) $(BF_LIB)
	@mkdir -p $(dir $@)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(GEN_LIBS) -lcurl
fuzz: deps
	@$(MAKE) --no-print-directory O=build-fuzz BIN=build-fuzz/bin CC=clang SAN=fuzz fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh build-fuzz/fuzz
fuzz-build: $(FUZZ_BINS)

bench: deps all
	@O=$(O) BIN=$(BIN) sh tests/bench/run.sh

demo: deps all
	@BIN=$(BIN) sh examples/demo.sh

format:
	clang-format -i $(BF_SRC) $(wildcard bundle-format/*.h) gen/*.c gen/*.h apply/*.c apply/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c

clean:
	rm -rf build build-asan build-fuzz bin

-include $(shell find $(O) -name '*.d' 2>/dev/null)
