#include "portscan/done_items.hpp"

#include <algorithm>

namespace scanfw {

namespace {
// The place of `port` in a job's sorted port list, or -1.
std::ptrdiff_t index_of(const Job& job, std::uint16_t port) {
    const auto it = std::lower_bound(job.ports.begin(), job.ports.end(), port);
    return it != job.ports.end() && *it == port ? it - job.ports.begin() : -1;
}
}  // namespace

bool DoneItems::add(std::string_view technique, const IpAddress& host, std::uint16_t port) {
    for (std::size_t j = 0; j < jobs_.size(); ++j) {
        if (jobs_[j].name() != technique) continue;
        const std::ptrdiff_t i = index_of(jobs_[j], port);
        if (i < 0) return false;
        auto& words = bits_[j][host];
        if (words.empty()) words.resize((jobs_[j].ports.size() + 63) / 64);
        auto& w = words[static_cast<std::size_t>(i) / 64];
        const std::uint64_t bit = std::uint64_t{1} << (i % 64);
        if (!(w & bit)) ++count_;
        w |= bit;
        return true;
    }
    return false;
}

bool DoneItems::done(const Item& item) const {
    const auto& hosts = bits_[item.job];
    const auto it = hosts.find(item.host);
    if (it == hosts.end()) return false;
    const std::ptrdiff_t i = index_of(jobs_[item.job], item.port);
    return i >= 0 && (it->second[static_cast<std::size_t>(i) / 64] >> (i % 64) & 1);
}

}  // namespace scanfw
