// --resume FILE: the results an interrupted scan already wrote (its -oJ JSON Lines),
// so that the next run scans only what is missing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/address.hpp"

namespace scanfw {

class ResumeSet {
public:
    // Reads the JSON Lines; throws InputError "FILE:LINE: ..." for a line that is not
    // a scanfw result or summary.
    void load(const std::string& path);
    bool done(std::string_view technique, const IpAddress& host, std::uint16_t port) const;
    std::size_t size() const { return done_.size(); }
    bool empty() const { return done_.empty(); }

private:
    static std::string key(std::string_view technique, const IpAddress& host, std::uint16_t port);
    std::unordered_set<std::string> done_;
};

}  // namespace scanfw
