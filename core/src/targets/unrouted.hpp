// Targets with no route, found before anything is sent, said once per range:
// "198.18.1.0 - 198.18.255.255: no route, skipped (65280 addresses)", not a line per
// address (issue 11: a mistyped prefix printed 16.7 million of them).
#pragma once

#include "net/routes.hpp"
#include "targets/target_source.hpp"

namespace scanfw {

// Warns once per range of unrouted targets; leaves `targets` rewound.
void report_unrouted(TargetSource& targets, Routes& routes);

}  // namespace scanfw
