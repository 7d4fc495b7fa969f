// fuzz_targets: text, one target specification a line -> TargetSet::add. Name
// resolution is off (set_resolve(false)): a hostname is an InputError, so the fuzzer
// never does DNS or sends anything. Only InputError may escape; every accepted
// target adds at least one address, and the first, last and a few middle addresses
// of the set can be read back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "targets/targets.hpp"

namespace {
[[noreturn]] void fail() { std::abort(); }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    scanfw::TargetSet set;
    set.set_resolve(false);
    int lines = 0;
    while (!text.empty() && lines++ < 64) {
        const auto nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        const std::uint64_t before = set.size();
        try {
            set.add(line);
        } catch (const scanfw::InputError&) {
            if (set.size() != before) fail();  // a refused target adds nothing
            continue;
        }
        if (set.size() <= before) fail();
    }
    const std::uint64_t n = set.size();
    if (n == 0) return 0;
    for (const std::uint64_t i : {std::uint64_t{0}, n / 3, n / 2, n - 1}) {
        const scanfw::IpAddress a = set.at(i);
        if (a.family != scanfw::Family::V4 && a.family != scanfw::Family::V6) fail();
        if (a.str().empty()) fail();
    }
    return 0;
}
