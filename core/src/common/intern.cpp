#include "common/intern.hpp"

#include <mutex>
#include <string>

#include <absl/container/node_hash_set.h>

namespace scanfw {

std::string_view intern(std::string_view text) {
    static std::mutex mutex;
    static absl::node_hash_set<std::string> strings;  // nodes never move: views stay valid
    const std::lock_guard lock(mutex);
    return *strings.emplace(text).first;
}

}  // namespace scanfw
