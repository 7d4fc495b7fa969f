#include "services/regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <atomic>
#include <memory>
#include <mutex>

#include <spdlog/spdlog.h>

namespace scanfw::services {

namespace {

// nmap's limits (service_scan.cc): a pattern gives up after this much backtracking
// and recursion instead of running for minutes on a crafted response.
constexpr std::uint32_t kMatchLimit = 100000;
constexpr std::uint32_t kDepthLimit = 10000;

std::string pcre2_message(int code) {
    PCRE2_UCHAR buf[256];
    if (pcre2_get_error_message(code, buf, sizeof buf) < 0) return "error " + std::to_string(code);
    return reinterpret_cast<const char*>(buf);
}

// Per thread: the match data grows to the largest capture count seen, the context
// carries the limits, and a JIT stack larger than the 32 KiB default lets the JIT
// run the deeper patterns instead of failing on them.
struct ThreadMatchState {
    pcre2_match_data* data = nullptr;
    std::uint32_t pairs = 0;
    pcre2_match_context* context = nullptr;
    pcre2_jit_stack* jit_stack = nullptr;

    ThreadMatchState() {
        context = pcre2_match_context_create(nullptr);
        pcre2_set_match_limit(context, kMatchLimit);
        pcre2_set_depth_limit(context, kDepthLimit);
        jit_stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, nullptr);
        if (jit_stack != nullptr) pcre2_jit_stack_assign(context, nullptr, jit_stack);
    }
    ~ThreadMatchState() {
        pcre2_match_data_free(data);
        pcre2_jit_stack_free(jit_stack);
        pcre2_match_context_free(context);
    }
    pcre2_match_data* data_for(std::uint32_t captures) {
        if (data == nullptr || pairs < captures + 1) {
            pcre2_match_data_free(data);
            pairs = std::max<std::uint32_t>(captures + 1, 16);
            data = pcre2_match_data_create(pairs, nullptr);
            if (data == nullptr) throw std::bad_alloc();
        }
        return data;
    }
};

ThreadMatchState& thread_state() {
    thread_local ThreadMatchState state;
    if (state.context == nullptr) throw std::bad_alloc();
    return state;
}

}  // namespace

struct Regex::Impl {
    pcre2_code* code = nullptr;
    std::uint32_t captures = 0;
    std::string where;
    std::once_flag jit_once;
    std::atomic<bool> jit_ok{false};
    ~Impl() { pcre2_code_free(code); }
};

Regex::Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;
Regex::~Regex() = default;

Regex::Regex(std::string_view pattern, bool caseless, bool dotall, std::string where) : impl_(std::make_unique<Impl>()) {
    impl_->where = std::move(where);
    std::uint32_t options = 0;
    if (caseless) options |= PCRE2_CASELESS;
    if (dotall) options |= PCRE2_DOTALL;
    int error = 0;
    PCRE2_SIZE offset = 0;
    impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options, &error,
                                &offset, nullptr);
    if (impl_->code == nullptr) throw RegexError{offset, pcre2_message(error)};
    pcre2_pattern_info(impl_->code, PCRE2_INFO_CAPTURECOUNT, &impl_->captures);
}

std::uint32_t Regex::capture_count() const { return impl_ ? impl_->captures : 0; }

bool Regex::ensure_jit() const {
    if (!impl_) return false;
    Impl& im = *impl_;
    std::call_once(im.jit_once, [&im] {
        const int rc = pcre2_jit_compile(im.code, PCRE2_JIT_COMPLETE);
        im.jit_ok = rc == 0;
        if (rc != 0)
            spdlog::debug("services: no JIT for the pattern at {} ({}); using the interpreter", im.where,
                          pcre2_message(rc));
    });
    return im.jit_ok.load();
}

namespace {

// Match, then the offsets; returns pcre2_match's code.
int run_match(pcre2_code* code, std::uint32_t captures, const std::string& where, std::string_view subject,
              Captures* out) {
    ThreadMatchState& state = thread_state();
    pcre2_match_data* data = state.data_for(captures);
    const int rc =
        pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0, data, state.context);
    if (rc < 0) {
        if (rc != PCRE2_ERROR_NOMATCH)
            spdlog::debug("services: pattern at {} gave up on a {}-byte response: {}", where, subject.size(),
                          pcre2_message(rc));
        return rc;
    }
    if (out != nullptr) {
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
        out->groups.assign(captures + 1, {Captures::npos, Captures::npos});
        for (std::uint32_t i = 0; i <= captures; ++i) {
            const PCRE2_SIZE a = ovector[2 * i], b = ovector[2 * i + 1];
            // \K can put a start after its end; such a group counts as unset.
            if (a == PCRE2_UNSET || b == PCRE2_UNSET || a > b || b > subject.size()) continue;
            out->groups[i] = {a, b};
        }
    }
    return rc;
}

}  // namespace

bool Regex::match(std::string_view subject, Captures& out) const {
    if (!impl_) return false;
    ensure_jit();
    return run_match(impl_->code, impl_->captures, impl_->where, subject, &out) >= 0;
}

bool Regex::match(std::string_view subject) const {
    if (!impl_) return false;
    ensure_jit();
    return run_match(impl_->code, impl_->captures, impl_->where, subject, nullptr) >= 0;
}

}  // namespace scanfw::services
