#include "system/progress.hpp"

#include <sys/ioctl.h>
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

namespace {

// The terminal's width, 0 when not known.
std::size_t terminal_width() {
    winsize ws{};
    return ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
}

// The longest of `forms` (all ASCII) that is shorter than `width`, else the shortest cut
// to fit; the last column is left free, as a full row makes some terminals wrap.
std::string fit(std::initializer_list<std::string> forms, std::size_t width) {
    if (width == 0) return *forms.begin();
    for (const std::string& f : forms)
        if (f.size() < width) return f;
    const std::string& shortest = *(forms.end() - 1);
    return shortest.substr(0, width > 1 ? width - 1 : 0);
}

}  // namespace

std::string Progress::line(std::string_view label, double fraction, double elapsed, double probes_per_s,
                           std::uint64_t answers, std::uint64_t open, const Waits& w, std::size_t width) {
    if (fraction < 1.0 || w.in_flight == 0) {
        const double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
        const std::string left = fmt::format("{}:{:02}", static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
        return fit({fmt::format("{}: {:5.1f}% sent, {:.0f} probes/s, {} answers, {} open, ETA {}", label, 100 * fraction,
                                probes_per_s, answers, open, left),
                    fmt::format("{:5.1f}% sent, {:.0f}/s, {} answers, {} open, ETA {}", 100 * fraction, probes_per_s,
                                answers, open, left),
                    fmt::format("{:.1f}% {} open ETA {}", 100 * fraction, open, left)},
                   width);
    }
    // Everything is sent: say what is still awaited, rather than "100% ETA 0:00".
    const std::string waiting = fmt::format("all sent, {} answers, {} open; waiting for {} port{}", answers, open,
                                            w.in_flight, w.in_flight == 1 ? "" : "s");
    std::string why, brief;
    if (w.in_doubt) {
        const std::string left = w.doubt_left < 0 ? "" : duration(w.doubt_left);
        why += fmt::format("{} held back by ICMP rate limits, asked again as the hosts allow, {}", w.in_doubt,
                           left.empty() ? "time left not known yet" : "about " + left + " more");
        brief += fmt::format("{} rate-limited{}", w.in_doubt, left.empty() ? "" : ", ~" + left);
    }
    if (w.waiting_app) {
        why += fmt::format("{}{} silent so far, given up to {} more for an application to answer",
                           why.empty() ? "" : "; ", w.waiting_app, duration(w.app_left));
        brief += fmt::format("{}{} for apps, {}", brief.empty() ? "" : "; ", w.waiting_app, duration(w.app_left));
    }
    const auto with = [](std::string s, const std::string& more) { return more.empty() ? s : s + " (" + more + ")"; };
    return fit({with(fmt::format("{}: {}", label, waiting), why), with(waiting, why), with(waiting, brief),
                with(fmt::format("{} open; waiting for {} port{}", open, w.in_flight, w.in_flight == 1 ? "" : "s"), brief)},
               width);
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
                                         open_, w, terminal_width()));
    std::fflush(stderr);
    shown_ = true;
}

void Progress::show(std::string_view text) {
    if (!due()) return;
    last_ = Clock::now();
    const std::size_t width = terminal_width();
    fmt::print(stderr, "\r\033[K{}", width && text.size() >= width ? text.substr(0, width - 1) : text);
    std::fflush(stderr);
    shown_ = true;
}

void Progress::announce(std::string_view text) {
    finish();
    fmt::print(stdout, "{}\n", text);
    std::fflush(stdout);
}

void Progress::finish() {
    if (!shown_) return;
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
    shown_ = false;
}

}  // namespace scanfw
