// IPv6 link-local targets and their zones (fe80::1%eth0): the same link-local address
// can live on every link, so a target names the interface it is reached through. One
// table for the process: targets fill it as they are read, and the route lookup, the
// raw sender and connect() take the interface from it.
#pragma once

#include <string_view>

#include "common/address.hpp"

namespace scanfw::zones {

// Whether `a` is an IPv6 link-local unicast address (fe80::/10): one that needs a zone.
bool link_local(const IpAddress& a);
// Records that `a` is reached through interface `zone` (a name or an index). Throws
// InputError for an interface this host does not have, a zone on an address that is
// not link-local, or one address given with two different zones.
void set(const IpAddress& a, std::string_view zone);
// The interface index for `a`, 0 when none was given.
unsigned of(const IpAddress& a);

}  // namespace scanfw::zones
