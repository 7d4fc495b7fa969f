#include "system/interrupt.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>

namespace scanfw {

namespace {
std::atomic<int> g_signal{0};

void on_signal(int sig) {
    if (g_signal.exchange(sig) != 0) _exit(128 + sig);  // asked twice: leave now
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
void request_stop() { g_signal = SIGINT; }
int stop_signal() { return g_signal.load(); }

}  // namespace scanfw
