// Capture of replies with libpcap, on its own thread. Packets are parsed and checked
// against the probe tags as they arrive (statelessly); only answers to our probes
// are queued for the engine.
#pragma once

#include <pcap/pcap.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/tag.hpp"
#include "net/packet.hpp"

namespace scanfw {

class Capture {
public:
    // Opens the capture (all interfaces) with a BPF filter that lets in only what can
    // answer a probe, its buffer sized for about `probes` answers (a bigger buffer
    // costs time to set up). Throws RuntimeError. Opened once, before privileges are dropped.
    explicit Capture(std::uint64_t probes);
    ~Capture();
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;

    // Begins the capture thread for one technique's probes; stop() ends it.
    void start(Protocol proto, const Tagger& tagger);
    void stop();

    // Moves the queued answers into `out` (cleared first). Waits until `deadline`
    // when none are queued.
    template <class TimePoint>
    void take(std::vector<Answer>& out, TimePoint deadline) {
        out.clear();
        std::unique_lock lock(mu_);
        if (queue_.empty()) cv_.wait_until(lock, deadline, [&] { return !queue_.empty(); });
        out.swap(queue_);
    }

    std::uint64_t packets_seen() const { return seen_; }
    std::uint64_t packets_dropped() const;

    // Exposed for tests and fuzzing: does this answer carry our tag?
    static bool matches(const Answer& a, const ProbeTag& tag);

private:
    static void on_packet(u_char* self, const pcap_pkthdr* h, const u_char* bytes);
    void handle(const std::uint8_t* bytes, std::size_t len);
    void loop();

    Protocol proto_ = Protocol::Tcp;
    const Tagger* tagger_ = nullptr;
    pcap_t* pcap_ = nullptr;
    int link_header_ = 0;  // bytes of link-layer header before IP
    std::thread thread_;
    std::atomic<bool> running_{false};
    std::atomic<std::uint64_t> seen_{0};
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Answer> queue_;
};

}  // namespace scanfw
