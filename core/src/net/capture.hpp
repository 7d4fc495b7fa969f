// Capture of answers with libpcap, on its own thread. Packets are parsed and matched to
// the probes' tags as they arrive (statelessly); only answers to our probes are queued
// for the engine, which an eventfd wakes. The queue is bounded (kMaxQueued): while the
// engine is behind, the backlog waits in the kernel's ring, where a packet takes a
// quarter of the room of a parsed answer, and what the ring cannot hold is counted as
// dropped (which slows the sending), rather than growing the process without limit.
#pragma once

#include <pcap/pcap.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/io.hpp"
#include "net/matcher.hpp"
#include "net/packet_ends.hpp"

namespace scanfw {

class Capture final : public PacketCapture {
public:
    // Opens the capture on all interfaces, its kernel buffer sized for about `probes`
    // answers (a bigger buffer costs time to set up). Throws RuntimeError. Opened
    // once, before privileges are dropped; the filter is set later, by start().
    explicit Capture(std::uint64_t probes);
    ~Capture() override;
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;

    void start(const std::string& filter, const Matcher& matcher) override;
    void stop() override;
    Clock::time_point take(std::vector<Answer>& out) override;
    int event_fd() const override { return event_fd_; }
    std::uint64_t packets_dropped() const override;

    std::uint64_t packets_seen() const { return seen_; }

    // One captured frame (Linux cooked header v1) into answers: exposed for tests and
    // fuzzing. Appends to `out`.
    static void answers_of(std::span<const std::uint8_t> frame, const Matcher& matcher, std::vector<Answer>& out);

private:
    static void on_packet(u_char* self, const pcap_pkthdr* h, const u_char* bytes);
    void loop();

    const Matcher* matcher_ = nullptr;
    pcap_t* pcap_ = nullptr;
    int event_fd_ = -1;
    std::thread thread_;
    std::atomic<bool> running_{false};
    std::atomic<std::uint64_t> seen_{0};
    // Answers queued before the capture thread waits for the engine to take them
    // (about 1.6 MiB; the engine's side of the swap holds as many).
    static constexpr std::size_t kMaxQueued = 4096;
    static constexpr int kPacketsPerDispatch = 512;  // how far a full queue may overshoot
    std::mutex mu_;
    std::condition_variable taken_;
    std::vector<Answer> queue_;
    Clock::time_point horizon_{};  // of what queue_ and the answers taken before hold
    std::vector<Answer> scratch_;  // the capture thread's
    // The kernel stamps packets with the real-time clock: its offset from the engine's
    // steady clock, read at start().
    std::chrono::nanoseconds realtime_to_steady_{};
};

}  // namespace scanfw
