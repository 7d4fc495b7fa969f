// Reverse DNS, as nmap does it by default: the name (PTR record) of each host found up,
// or of every target with -R, none with -n. The lookups run in a thread of their own
// with c-ares, many at once, while the scan goes on: a slow or absent DNS server never
// holds up a probe. /etc/hosts is read first, then the DNS servers of
// /etc/resolv.conf or those of --dns-servers.
#pragma once

#include <netdb.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "common/address.hpp"
#include "common/result.hpp"

namespace scanfw {

enum class ReverseDnsMode { Never, Up, All };  // -n, nmap's default, -R

// Throws InputError naming a --dns-servers entry that is not an IP address.
void check_dns_servers(const std::vector<std::string>& servers);

// Asks for the names of addresses and hands back those found, in a c-ares thread.
class ReverseResolver {
public:
    // Throws InputError for a server that is not an IP address, RuntimeError when
    // c-ares cannot start (no /etc/resolv.conf is fine: c-ares then asks 127.0.0.1).
    explicit ReverseResolver(const std::vector<std::string>& servers);
    ~ReverseResolver();
    ReverseResolver(const ReverseResolver&) = delete;
    ReverseResolver& operator=(const ReverseResolver&) = delete;

    // False once the servers have given no answer to kGiveUp lookups in a row
    // (unreachable, refusing or silent): then nothing more is asked.
    bool asking() const { return !dead_.load(std::memory_order_acquire); }
    void ask(const IpAddress& a);
    // The lookups ended since the last call, each with the name found, or "" for none.
    std::vector<std::pair<IpAddress, std::string>> take();
    bool has_answers() const { return answered_.load(std::memory_order_acquire); }
    // Waits until every lookup asked for has ended, `give_up()` says to stop waiting,
    // or `limit` has passed; returns how many are left unfinished.
    template <class GiveUp>
    std::size_t wait_all(GiveUp give_up, std::chrono::steady_clock::duration limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        std::unique_lock lock(mutex_);
        while (outstanding_ > 0 && !give_up() && std::chrono::steady_clock::now() < deadline)
            idle_.wait_for(lock, std::chrono::milliseconds(20));
        return outstanding_;
    }
    struct Counts {
        std::uint64_t named = 0, unnamed = 0, failed = 0;  // a name; none (NXDOMAIN); no answer
    };
    Counts counts() const {
        std::lock_guard lock(mutex_);
        return counts_;
    }

    static constexpr int kGiveUp = 32;

private:
    void run();
    void start_waiting();  // in the thread: hands queued lookups to c-ares
    void wake();
    static void on_answer(void* arg, int status, int timeouts, ::hostent* h);

    struct Lookup {
        ReverseResolver* self;
        IpAddress address;
    };
    void* channel_ = nullptr;  // ares_channel
    int wake_fd_ = -1;         // an eventfd: a lookup asked for, or the end
    mutable std::mutex mutex_;
    std::condition_variable idle_;
    std::deque<IpAddress> queued_;
    std::vector<std::pair<IpAddress, std::string>> answers_;
    std::size_t outstanding_ = 0;  // asked for and not ended (queued or in c-ares)
    std::size_t in_flight_ = 0;    // in c-ares (the thread's own)
    int failures_in_a_row_ = 0;
    Counts counts_;
    std::atomic<bool> answered_{false}, stop_{false}, dead_{false};
    std::thread thread_;
};

// Sends each host and result on to `next`, and each reverse DNS name found as an update
// of its host (HostStatus::update, ptr_name) as soon as it is known. Memory: the hosts
// whose lookup is running (at most the scan's hosts up, while the servers lag).
class ReverseNames final : public ResultSink {
public:
    ReverseNames(ResultSink& next, ReverseDnsMode mode, const std::vector<std::string>& servers);
    void on_host(const HostStatus& h) override;
    void on_result(const Result& r) override;
    // At the end of the scan: waits for the lookups still running, as long as one
    // lookup may take (c-ares' tries: 1 s, then 2 s) unless `interrupted` says the scan
    // was stopped, hands on what they found, and says (-v) what reverse DNS did.
    template <class Interrupted>
    void finish(Interrupted interrupted) {
        if (!resolver_) return;
        const std::size_t left = resolver_->wait_all(interrupted, std::chrono::milliseconds(3100));
        deliver();
        report(left);
    }

private:
    void deliver();
    void report(std::size_t left) const;

    ResultSink& next_;
    ReverseDnsMode mode_;
    std::unique_ptr<ReverseResolver> resolver_;  // none with -n
    struct Status {
        bool up;
        std::string_view reason;  // interned, as HostStatus's
    };
    absl::flat_hash_map<IpAddress, Status, IpAddressHash> waiting_;  // of each host whose lookup runs
};

}  // namespace scanfw
