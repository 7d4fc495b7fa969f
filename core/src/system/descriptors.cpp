#include "system/descriptors.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace scanfw {

std::size_t socket_budget(std::size_t most) {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    const rlim_t limit = rl.rlim_cur == RLIM_INFINITY ? 65536 : rl.rlim_cur;
    return static_cast<std::size_t>(std::clamp<rlim_t>(limit > 64 ? limit - 64 : 8, 8, std::max<rlim_t>(most, 8)));
}

}  // namespace scanfw
