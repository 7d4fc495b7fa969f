// Probes as packets: the technique writes its transport header (or ARP / neighbour
// solicitation), the core puts the IP header and the tag around it and sends it with
// the raw or packet socket; answers come from the capture, matched to their probes.
#pragma once

#include <memory>
#include <optional>

#include "engine/io.hpp"
#include "net/capture.hpp"
#include "net/matcher.hpp"
#include "net/raw_socket.hpp"
#include "net/routes.hpp"

namespace scanfw {

// The raw sockets and the capture, which need privileges: opened once, before the
// process gives them up, and shared by every run of the scan.
struct RawIo {
    explicit RawIo(std::uint64_t probes) : capture(probes) {}
    RawSocket socket;
    Capture capture;
};

// `probes`: about how many probes the scan will send (it sizes the capture's buffer).
// Throws RuntimeError naming what is missing (CAP_NET_RAW) and the way out.
std::unique_ptr<RawIo> open_raw_io(std::uint64_t probes);

class PacketIo final : public ProbeIo {
public:
    PacketIo(PacketSender& sender, PacketCapture& capture, Routes& routes)
        : sender_(sender), capture_(capture), routes_(routes) {}
    PacketIo(RawIo& raw, Routes& routes) : PacketIo(raw.socket, raw.capture, routes) {}
    ~PacketIo() override { end(); }
    void begin(std::span<const Job> jobs) override;
    void end() override;
    bool send(const Job& job, const Item& item, const IpAddress& source, SendMark& mark) override;
    void flush() override { sender_.flush(); }
    void take_ready(std::vector<Answer>& out) override { horizon_ = capture_.take(out); }
    int wait_fd() const override { return capture_.event_fd(); }
    std::uint64_t sent() const override { return sender_.sent(); }
    std::uint64_t dropped() const override { return capture_.packets_dropped(); }
    std::optional<Clock::time_point> sent_at(const SendMark& mark, Clock::time_point committed) const override {
        return sender_.sent_at({mark.batch, mark.index}, committed);
    }
    Clock::time_point horizon() const override { return horizon_; }
    Clock::duration horizon_lag() const override { return std::chrono::milliseconds(4); }
    // Tags from this key rather than a random one per run (the scan simulation).
    void fixed_key(const SipKey& key) { fixed_key_ = key; }

    // The capture filter for a run of these jobs: what can answer them, nothing else.
    static std::string filter_for(std::span<const Job> jobs);

private:
    void check_tag(const Job& job, std::span<const std::uint8_t> probe, const ProbeTag& tag, std::uint16_t port) const;
    PacketSender& sender_;
    PacketCapture& capture_;
    Routes& routes_;
    Clock::time_point horizon_{};
    std::optional<SipKey> fixed_key_;
    std::optional<Tagger> tagger_;
    std::optional<Matcher> matcher_;
    bool running_ = false;
};

}  // namespace scanfw
