# Set-up and entry points on Debian with the Swift toolchain. Each target
# installs the Debian packages it needs first (as root), so a fresh machine
# needs nothing else.

BUILD_PACKAGES := pkg-config liblua5.4-dev libopenblas-dev zlib1g-dev libopenmpi-dev openmpi-bin libpng-dev \
	libturbojpeg0-dev
# The tests also cross-check with Python: the safetensors and onnxruntime
# packages (PyPI, in a venv that sees Debian's torch) and
# Tests/Reference/torch_peer.py (Debian's torch); render `secnn report` in
# headless Chromium; and regenerate RESULTS.md with matplotlib.
TEST_PACKAGES := python3-venv python3-torch python3-numpy python3-pil python3-matplotlib libopenblas0 chromium \
	dataset-fashion-mnist
VENV := .build/python
SECNN := .build/release/secnn
SHELL := /bin/bash

.PHONY: demo test build deps test-deps bench fuzz results keep

# The paper's policy, at its defaults, on the embedded digits set.
demo: build
	$(SECNN) train --data digits --epochs 40 --rule paper.lua --out runs/demo
	$(SECNN) ladder runs/demo

# Tests whose data or tool is missing skip, and are listed, with why, in the
# last lines; with SECNN_REQUIRE_ALL=1 (.ci/run) they fail instead.
test: deps test-deps
	swift build -c release --build-tests
	set -o pipefail; SECNN_PYTHON=$(CURDIR)/$(VENV)/bin/python swift test -c release --skip-build 2>&1 \
	  | tee .build/test.log
	@if grep -q ": Test skipped" .build/test.log; then \
	  echo "Skipped (passing without them):"; grep ": Test skipped" .build/test.log | sed 's/^.*: \([^ ]*\) : Test skipped - /  \1: /'; \
	fi

build: deps
	swift build -c release --product secnn

# RESULTS.md and results/plots/ from the run directories kept under results/.
results: test-deps
	/usr/bin/python3 results/make_results.py

# Keep a run's record (not its checkpoints) under results/: make keep RUN=runs/x AS=results/cifar10/x
keep:
	@[ -n "$(RUN)" ] && [ -n "$(AS)" ] || { echo "usage: make keep RUN=DIR AS=results/DATASET/NAME"; exit 64; }
	mkdir -p $(AS)
	for f in config.json rule.lua metrics.jsonl events.jsonl ladder.json ladder-finetuned.json summary.json; do \
	  if [ -f $(RUN)/$$f ]; then cp $(RUN)/$$f $(AS)/; fi; \
	done

# libFuzzer on the readers and the rule-decision decoder (FUZZING.md):
# FUZZ_SECONDS per target, from the committed seeds; fails on any finding.
FUZZ_SECONDS ?= 60
fuzz: deps
	Fuzz/fuzz.sh $(FUZZ_SECONDS)

deps:
	@missing=$$(for p in $(BUILD_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update -qq && apt-get install -y -qq $$missing; fi

test-deps:
	@missing=$$(for p in $(TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update -qq && apt-get install -y -qq $$missing; fi
	@[ -x $(VENV)/bin/python ] || /usr/bin/python3 -m venv --system-site-packages $(VENV)
	@$(VENV)/bin/python -c 'import safetensors, onnxruntime' 2>/dev/null || $(VENV)/bin/pip install -q safetensors onnxruntime

# The side-by-side benchmarks of BENCHMARKS.md (one sitting, secnn then the
# peer): throughput, the scoring cost against the peer's diagonal score, and
# the per-op profile.
bench: build test-deps
	for spec in 16x1,16x1,16x1 24x2,32x3,32x2 32x4,48x4,48x4; do \
	  $(SECNN) bench --arch $$spec --batch 512 --steps 20 --threads 2 --score-images 0 | grep -E 'spec=|images_per_s=|peak_rss'; \
	  /usr/bin/python3 Tests/Reference/torch_peer.py bench --spec $$spec --batch 512 --steps 20 --threads 2 --score-images 0 \
	    | grep -E '^(train|eval)_images_per_s=|peak_rss'; \
	done
	$(SECNN) bench --arch 24x2,32x3,32x2 --batch 512 --steps 3 --threads 2 --score-reps 3 | grep -E '^(diag_fisher|score_)'
	/usr/bin/python3 Tests/Reference/torch_peer.py bench --spec 24x2,32x3,32x2 --batch 512 --steps 3 --threads 2 --score-reps 3 \
	  | grep -E '^diag_fisher_score_s'
	for spec in 24x2,32x3,32x2 32x4,48x4,48x4; do \
	  $(SECNN) bench --arch $$spec --steps 5 --score-images 0 --profile | grep -E '^(profile_|gemm_peak)'; \
	done
