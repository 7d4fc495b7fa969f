// A compiled nmap-service-probes pattern: PCRE2 (8-bit, no UTF, as nmap), with the
// match limits nmap sets so that a hostile response cannot make one pattern run for
// long. Compiled when the database loads (so a bad pattern is a load error with its
// line); JIT-compiled the first time it is matched, at most once, and matched by the
// interpreter when the JIT is not available.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace scanfw::services {

// Byte offsets of the whole match ([0]) and of each capture group; a group that
// took no part in the match is {npos, npos}.
struct Captures {
    static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();
    std::vector<std::pair<std::size_t, std::size_t>> groups;
};

struct RegexError {
    std::size_t offset;   // in the pattern
    std::string message;  // PCRE2's words
};

class Regex {
public:
    Regex();
    // Throws RegexError. `where` names the pattern in debug logs (e.g. "FILE:LINE").
    Regex(std::string_view pattern, bool caseless, bool dotall, std::string where);
    Regex(Regex&&) noexcept;
    Regex& operator=(Regex&&) noexcept;
    ~Regex();

    // True when `subject` matches; fills `out` then. Hitting the match or depth
    // limit counts as no match (as in nmap), logged at debug level. Thread-safe.
    bool match(std::string_view subject, Captures& out) const;
    bool match(std::string_view subject) const;
    std::uint32_t capture_count() const;
    // JIT-compiles now rather than at the first match; false when the JIT is not
    // available for this pattern (it is then matched by the interpreter).
    bool ensure_jit() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;  // shared code and its once-only JIT state, stable across moves
};

}  // namespace scanfw::services
