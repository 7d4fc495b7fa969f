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

std::string Progress::line(std::string_view label, double fraction, double elapsed, double probes_per_s,
                           std::uint64_t answers, std::uint64_t open, std::size_t in_flight, std::size_t in_doubt,
                           std::size_t waiting_app) {
    std::string out = fmt::format("{}: ", label);
    if (fraction < 1.0 || in_flight == 0) {
        const double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
        out += fmt::format("{:5.1f}% sent, {:.0f} probes/s, {} answers, {} open, ETA {}:{:02}", 100 * fraction,
                           probes_per_s, answers, open, static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
        return out;
    }
    // Everything is sent: say what is still awaited, rather than "100% ETA 0:00".
    out += fmt::format("all sent, {} answers, {} open; waiting for {} port(s)", answers, open, in_flight);
    std::string why;
    if (in_doubt) why += fmt::format("{} held back by ICMP rate limits, asked again as the hosts allow", in_doubt);
    if (waiting_app) why += fmt::format("{}{} silent so far, given time for an application to answer",
                                        why.empty() ? "" : "; ", waiting_app);
    if (!why.empty()) out += " (" + why + ")";
    return out;
}

void Progress::update(std::uint64_t done, std::uint64_t total, std::uint64_t probes, std::uint64_t answers,
                      std::size_t in_flight, std::size_t in_doubt, std::size_t waiting_app) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (now - start_ < kQuietStart || now - last_ < kRefresh) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double fraction = total ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total)) : 0;
    fmt::print(stderr, "\r\033[K{}", line(label_, fraction, elapsed, static_cast<double>(probes) / elapsed, answers,
                                         open_, in_flight, in_doubt, waiting_app));
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
