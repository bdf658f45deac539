# PGXS build of pg_personalize: one shared library from src/core (pure C++17)
# and src/pg (the PostgreSQL glue). `make installcheck` runs every sql/*.sql.

EXTENSION  = pg_personalize
EXTVERSION = 0.1.0
MODULE_big = pg_personalize

CORE_SRCS = $(sort $(wildcard src/core/*.cpp))
GLUE_SRCS = $(sort $(wildcard src/pg/*.cpp))
OBJS      = $(CORE_SRCS:.cpp=.o) $(GLUE_SRCS:.cpp=.o)

# The install script is assembled from one file per feature area.
SQL_PARTS  = $(sort $(wildcard src/sql/*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql

# Every sql/*.sql is a test; a file that exists is a file that runs.
REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=$(EXTENSION)

PG_CONFIG ?= pg_config
SERVER_INCLUDE := $(shell $(PG_CONFIG) --includedir-server)
EIGEN_INCLUDE  ?= /usr/include/eigen3

WARNINGS = -Wall -Wextra -Wno-unused-parameter
# src/core is compiled without the server include path: including a
# PostgreSQL header there does not build.
# -ffp-contract=off: no fused multiply-add, so generated data is the same on every machine.
CORE_CXXFLAGS = -std=c++17 -O2 -g -fPIC -ffp-contract=off -MMD -MP $(WARNINGS) -I src -isystem $(EIGEN_INCLUDE)
PG_CXXFLAGS   = -std=c++17 -MMD -MP $(WARNINGS) -I src -isystem $(SERVER_INCLUDE) -isystem $(EIGEN_INCLUDE)
SHLIB_LINK   += -lstdc++ -lm -labsl_hash -labsl_city -labsl_low_level_hash -labsl_raw_hash_set

# Debian's server is built with LLVM; the bitcode step would not see our flags.
override with_llvm = no

# The version string compiled into personalize.version() comes from here.
PG_CPPFLAGS = -DPERSONALIZE_VERSION='"$(EXTVERSION)"'

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

src/core/%.o: src/core/%.cpp | check-core-isolation
	$(CXX) $(CORE_CXXFLAGS) -c -o $@ $<

$(DATA_built): $(SQL_PARTS)
	cat $^ > $@

# Rebuild objects whose headers changed (-MMD writes the .d files).
-include $(OBJS:.o=.d)
EXTRA_CLEAN = $(OBJS:.o=.d)

.PHONY: check-core-isolation
check-core-isolation:
	@if grep -nE '^\s*#\s*include\s*[<"](postgres|postgres_ext|fmgr|funcapi|miscadmin|pg_config|c)\.h|^\s*#\s*include\s*[<"](utils|catalog|executor|access|nodes|storage|lib|mb|commands|parser|optimizer)/' $(CORE_SRCS) src/core/*.hpp; then \
		echo "error: src/core must not include PostgreSQL headers (see DEVELOPERS.md)" >&2; exit 1; fi
