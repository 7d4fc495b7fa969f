#include "system/progress.hpp"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace scanfw {

namespace {
constexpr auto kQuietStart = std::chrono::seconds(1);     // short scans print nothing
constexpr auto kRefresh = std::chrono::milliseconds(250);
}  // namespace

Progress::Progress(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO)) {}

void Progress::update(std::string_view technique, std::uint64_t done, std::uint64_t total, std::uint64_t probes,
                      std::uint64_t replies) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (now - start_ < kQuietStart || now - last_ < kRefresh) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double fraction = total ? static_cast<double>(done) / static_cast<double>(total) : 0;
    const double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
    fmt::print(stderr, "\r\033[K{}: {:5.1f}% done, {:.0f} probes/s, {} replies, {} open, ETA {}:{:02}", technique,
               100 * fraction, static_cast<double>(probes) / elapsed, replies, open_,
               static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
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
