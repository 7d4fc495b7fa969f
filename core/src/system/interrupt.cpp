#include "system/interrupt.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

namespace scanfw {

namespace {
std::atomic<int> g_signal{0};
std::atomic<int> g_count{0};

void on_signal(int sig) {
    int expected = 0;
    g_signal.compare_exchange_strong(expected, sig);
    if (g_count.fetch_add(1) + 1 >= 3) _exit(128 + sig);  // asked three times: leave now
}
}  // namespace

void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() { return g_signal.load(std::memory_order_relaxed) != 0; }
bool hurry_requested() { return g_count.load(std::memory_order_relaxed) >= 2; }
void request_stop() {
    g_signal = SIGINT;
    g_count = std::max(g_count.load(), 1);
}
int stop_signal() { return g_signal.load(); }

}  // namespace scanfw
