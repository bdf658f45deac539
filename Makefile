# PGXS build of pg_personalize: one shared library from src/core (pure C++17,
# one folder per capability) and src/pg (the PostgreSQL glue, the same
# folders). `make installcheck` runs every test/sql/*.sql (pg_regress).
# docs/architecture.md shows the tree.

EXTENSION  = pg_personalize
EXTVERSION = 0.2.0
MODULE_big = pg_personalize

# Sources are picked up by folder: a file in a capability folder is built.
CORE_SRCS = $(sort $(wildcard src/core/*/*.cpp))
GLUE_SRCS = $(sort $(wildcard src/pg/*.cpp src/pg/*/*.cpp))
OBJS      = $(CORE_SRCS:.cpp=.o) $(GLUE_SRCS:.cpp=.o)

# The install script of this version is assembled from one file per
# capability (src/sql/NN_<capability>.sql, in NN order). Earlier versions'
# install scripts and the upgrade scripts between versions ship as they are
# (src/sql/pg_personalize--*.sql), so ALTER EXTENSION ... UPDATE works.
# The upgrade script to this version, src/sql/pg_personalize--0.1.0--0.2.0.sql,
# is committed as it ships, and is the join of its parts
# src/sql/upgrade/0.1.0--0.2.0/NN_<topic>.sql in NN order: a change adds or
# edits its own part (two branches do not edit one hand-written file) and
# runs `make upgrade-script`; the build stops when the two disagree.
SQL_PARTS      = $(sort $(wildcard src/sql/[0-9][0-9]_*.sql))
UPGRADE_PARTS  = $(sort $(wildcard src/sql/upgrade/0.1.0--0.2.0/[0-9][0-9]_*.sql))
UPGRADE_SCRIPT = src/sql/$(EXTENSION)--0.1.0--$(EXTVERSION).sql
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA       = $(sort $(wildcard src/sql/$(EXTENSION)--*.sql))

# Every test/sql/*.sql is a test; a file that exists is a file that runs.
REGRESS      = $(patsubst test/sql/%.sql,%,$(sort $(wildcard test/sql/*.sql)))
REGRESS_OPTS = --inputdir=test --outputdir=test --load-extension=$(EXTENSION)

PG_CONFIG ?= pg_config
SERVER_INCLUDE := $(shell $(PG_CONFIG) --includedir-server)
EIGEN_INCLUDE  ?= /usr/include/eigen3

WARNINGS = -Wall -Wextra -Wno-unused-parameter
# src/core is compiled without the server include path: including a
# PostgreSQL header there does not build.
# -ffp-contract=off: no fused multiply-add, so generated data is the same on every machine.
CORE_CXXFLAGS = -std=c++17 -O2 -g -fPIC -ffp-contract=off -MMD -MP $(WARNINGS) -I src -isystem $(EIGEN_INCLUDE) $(EXTRA_CXXFLAGS)
PG_CXXFLAGS   = -std=c++17 -MMD -MP $(WARNINGS) -I src -isystem $(SERVER_INCLUDE) -isystem $(EIGEN_INCLUDE) $(EXTRA_CXXFLAGS)
SHLIB_LINK   += -lstdc++ -lm -labsl_hash -labsl_city -labsl_low_level_hash -labsl_raw_hash_set $(EXTRA_LDFLAGS)

# Debian's server is built with LLVM; the bitcode step would not see our flags.
override with_llvm = no

# The version string compiled into personalize.version() comes from here.
PG_CPPFLAGS = -DPERSONALIZE_VERSION='"$(EXTVERSION)"'

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

src/core/%.o: src/core/%.cpp | check-core-isolation
	$(CXX) $(CORE_CXXFLAGS) -c -o $@ $<

# EASE's dense steps a second time with AVX2 + FMA (x86-64 only), picked at
# run time when the CPU has both (core/suggest/ease_kernel.hpp); elsewhere
# the file compiles to "not available". The two builds must share no code:
# check-kernel-odr fails the build when a symbol the AVX2 object defines is
# defined by any other object of the library (the personality routine's
# reference DW.ref.__gxx_personality_v0 is data, the same in every object).
KERNEL_AVX2     = src/core/suggest/ease_kernel_avx2.o
KERNEL_AVX2_FLAGS := $(if $(filter x86_64-% i386-% i486-% i586-% i686-%,$(shell $(CXX) -dumpmachine)),-mavx2 -mfma)
$(KERNEL_AVX2): CORE_CXXFLAGS += $(KERNEL_AVX2_FLAGS)
all: check-kernel-odr
.PHONY: check-kernel-odr
check-kernel-odr: SHELL := /bin/bash
check-kernel-odr: $(OBJS)
	@shared=$$(comm -12 <(nm -g --defined-only $(KERNEL_AVX2) | awk 'NF == 3 { print $$3 }' | sort -u) \
	                    <(nm -g --defined-only $(filter-out $(KERNEL_AVX2),$(OBJS)) | awk 'NF == 3 { print $$3 }' | sort -u) | \
	           grep -v '^DW\.ref\.__gxx_personality_v0$$' || true); \
	if [ -n "$$shared" ]; then \
		echo "error: $(KERNEL_AVX2) shares symbols with the baseline objects (an AVX2 instance could serve a baseline caller):" >&2; \
		echo "$$shared" | c++filt >&2; exit 1; fi

# Assembled on every make (cat is instant): a new part older than the
# assembled file would otherwise be left out.
.PHONY: $(DATA_built) upgrade-script check-upgrade-script
$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS) | check-upgrade-script
	cat $(SQL_PARTS) > $@
upgrade-script:
	cat $(UPGRADE_PARTS) > $(UPGRADE_SCRIPT)
check-upgrade-script:
	@cat $(UPGRADE_PARTS) | cmp -s - $(UPGRADE_SCRIPT) || { \
		echo "error: $(UPGRADE_SCRIPT) is not the join of src/sql/upgrade/0.1.0--0.2.0/*.sql: run make upgrade-script" >&2; exit 1; }

# Rebuild objects whose headers changed (-MMD writes the .d files).
-include $(OBJS:.o=.d)
EXTRA_CLEAN = $(OBJS:.o=.d) test/results test/regression.diffs test/regression.out

# The core never sees PostgreSQL (docs/architecture.md): stop the build when
# a core file includes a server header.
.PHONY: check-core-isolation
check-core-isolation:
	@if grep -nE '^\s*#\s*include\s*[<"](postgres|postgres_ext|fmgr|funcapi|miscadmin|pg_config|c)\.h|^\s*#\s*include\s*[<"](utils|catalog|executor|access|nodes|storage|lib|mb|commands|parser|optimizer)/' $(CORE_SRCS) $(wildcard src/core/*/*.hpp); then \
		echo "error: src/core must not include PostgreSQL headers (see docs/architecture.md)" >&2; exit 1; fi
