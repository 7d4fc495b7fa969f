#include "system/progress.hpp"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace scanfw {

namespace {
constexpr auto kQuietStart = std::chrono::seconds(1);  // short scans print nothing
constexpr auto kRefresh = std::chrono::milliseconds(250);
}  // namespace

Progress::Progress(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO)) {}

namespace {
std::string duration(double s) {
    const auto n = static_cast<long>(s + 0.5);
    return n < 60 ? fmt::format("{} s", n) : fmt::format("{}:{:02}", n / 60, n % 60);
}
}  // namespace

std::string Progress::line(std::string_view label, double fraction, double elapsed, double probes_per_s,
                           std::uint64_t answers, std::uint64_t open, const Waits& w) {
    std::string out = fmt::format("{}: ", label);
    if (fraction < 1.0 || w.in_flight == 0) {
        const double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
        out += fmt::format("{:5.1f}% sent, {:.0f} probes/s, {} answers, {} open, ETA {}:{:02}", 100 * fraction,
                           probes_per_s, answers, open, static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
        return out;
    }
    // Everything is sent: say what is still awaited, rather than "100% ETA 0:00".
    out += fmt::format("all sent, {} answers, {} open; waiting for {} port{}", answers, open, w.in_flight,
                       w.in_flight == 1 ? "" : "s");
    std::string why;
    if (w.in_doubt)
        why += fmt::format("{} held back by ICMP rate limits, asked again as the hosts allow, {}", w.in_doubt,
                           w.doubt_left < 0 ? "time left not known yet"
                                            : fmt::format("about {} more", duration(w.doubt_left)));
    if (w.waiting_app)
        why += fmt::format("{}{} silent so far, given up to {} more for an application to answer",
                           why.empty() ? "" : "; ", w.waiting_app, duration(w.app_left));
    if (!why.empty()) out += " (" + why + ")";
    return out;
}

bool Progress::due() const {
    if (!enabled_) return false;
    const auto now = Clock::now();
    return now - start_ >= kQuietStart && now - last_ >= kRefresh;
}

void Progress::update(std::uint64_t done, std::uint64_t total, std::uint64_t probes, std::uint64_t answers,
                      const Waits& w) {
    if (!due()) return;
    const auto now = Clock::now();
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double fraction = total ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total)) : 0;
    fmt::print(stderr, "\r\033[K{}", line(label_, fraction, elapsed, static_cast<double>(probes) / elapsed, answers,
                                         open_, w));
    std::fflush(stderr);
    shown_ = true;
}

void Progress::show(std::string_view text) {
    if (!due()) return;
    last_ = Clock::now();
    fmt::print(stderr, "\r\033[K{}", text);
    std::fflush(stderr);
    shown_ = true;
}

void Progress::finish() {
    if (!shown_) return;
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
    shown_ = false;
}

}  // namespace scanfw
