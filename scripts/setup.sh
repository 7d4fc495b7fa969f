#!/usr/bin/env bash
# Installs everything scanfw needs to build, test and demo on Debian 12, then builds it.
# Usage: scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config          # toolchain
  libpcap-dev                               # capture of replies
  libboost-dev libboost-filesystem-dev      # Boost.DLL plugin loading
  libyaml-cpp-dev                           # YAML profiles
  libspdlog-dev libfmt-dev                  # logging and formatting
  libcli11-dev                              # command line
  libabsl-dev                               # flat hash maps for the per-probe and per-host state
  libgtest-dev libgmock-dev                 # unit tests
  iproute2 nftables                         # namespaces and firewall rules for demo/tests
  nmap                                      # side-by-side comparison in integration tests
  python3                                   # small listeners in demo/tests
  netbase                                   # /etc/services for service names
  libcap-dev libcap2-bin                    # dropping capabilities; setcap for non-root use
  nlohmann-json3-dev                        # reading JSON Lines back for --resume
  jq                                        # integration tests read JSON output
  clang-14 libclang-rt-14-dev llvm-14       # libFuzzer, sanitizers, llvm-symbolizer: scripts/fuzz.sh
  time                                      # /usr/bin/time -v: peak memory in tests and benchmarks
  stress-ng                                 # a busy machine for the scanner (integration.limits.busy)
  tcpdump                                   # the order probes leave in (tests/integration/order.sh)
  tmux                                      # the progress line on an 80-column terminal (tests/integration/feedback.sh)
  libxml2-utils xsltproc ndiff              # output tests: xmllint (nmap.dtd), nmap.xsl, ndiff
  pandoc man-db                             # man pages made from README.md; man checks them
  dpkg-dev file lintian                     # Debian packages: dpkg-shlibdeps, checks of the .debs
  bash-completion zsh                       # completion tests
  slurm-wlm munge                           # deploy/slurm: the one-node cluster test (tests/integration/slurm.sh)
  python3-yaml                              # tests/integration/kubernetes.sh reads the manifests
  libpcre2-dev libssl-dev                   # service detection (-sV): nmap-service-probes patterns, TLS tunnels
  libc-ares-dev                             # reverse DNS of the hosts found (-n, -R, --dns-servers)
  openssh-server nginx-light dnsmasq vsftpd openssl  # real daemons for tests/integration/services.sh
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Installing munge, slurm-wlm, openssh-server, nginx, dnsmasq and vsftpd would start
  # their services; the tests start their own daemons, with their own configuration,
  # so keep the packages from starting anything (policy-rc.d exiting 101), unless the
  # machine already has such a policy.
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq -o DPkg::Lock::Timeout=600
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
  if [ "$own_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
fi

if [ "${1:-}" != "--no-build" ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j"$(nproc)"
fi
