// How many sockets may be open at once: the soft limit on descriptors is raised to
// the hard one, and some are kept back for outputs, the capture and plugins.
#pragma once

#include <cstddef>

namespace scanfw {

// Between 8 and `most`.
std::size_t socket_budget(std::size_t most);

}  // namespace scanfw
