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
    PacketIo(RawIo& raw, Routes& routes) : raw_(raw), routes_(routes) {}
    ~PacketIo() override { end(); }
    void begin(std::span<const Job> jobs) override;
    void end() override;
    bool send(const Job& job, const Item& item, const IpAddress& source, SendMark& mark) override;
    void flush() override { raw_.socket.flush(); }
    void take_ready(std::vector<Answer>& out) override { raw_.capture.take(out); }
    int wait_fd() const override { return raw_.capture.event_fd(); }
    std::uint64_t sent() const override { return raw_.socket.sent(); }
    std::uint64_t dropped() const override { return raw_.capture.packets_dropped(); }

    // The capture filter for a run of these jobs: what can answer them, nothing else.
    static std::string filter_for(std::span<const Job> jobs);

private:
    void check_tag(const Job& job, std::span<const std::uint8_t> probe, const ProbeTag& tag, std::uint16_t port) const;
    RawIo& raw_;
    Routes& routes_;
    std::optional<Tagger> tagger_;
    std::optional<Matcher> matcher_;
    bool running_ = false;
};

}  // namespace scanfw
