#!/usr/bin/env bash
# S3: S2 with 10 % of the probes dropped at random by nftables in the target
# namespace (numgen random mod 100 < 10 drop). nmap is capped at NMAP_S3_CAP
# seconds (default 180; issue 3 measured 408 s): a capped run is reported as such.
SCEN=S3 exec bash "$(dirname "$0")/s2.sh" "$@"
