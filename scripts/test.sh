#!/usr/bin/env bash
# Installs what scanfw needs, builds it, and runs every test (unit, plugin and
# integration tests in network namespaces). Run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
