#include "net/capture.hpp"

#include <linux/if_packet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "scan/engine.hpp"

namespace scanfw {

namespace {
constexpr int kSnapLen = 256;  // headers and a quoted header are all we read
// The kernel's ring: up to about 100,000 replies of slack, less for a small scan
// (the kernel takes about 1 ms per MiB to set it up).
constexpr std::uint64_t kMaxBufferBytes = 16 << 20, kMinBufferBytes = 1 << 20, kBytesPerAnswer = 256;
// Answers come in blocks, a block at the latest this long after its first packet:
// the capture's share of every measured round trip.
constexpr int kPollMs = 1;

// Only packets coming in: TCP or UDP to one of our source ports, or a destination
// unreachable (ICMP type 3, ICMPv6 type 1).
std::string capture_filter() {
    return fmt::format(
        "inbound and (((tcp or udp) and dst portrange {}-{}) or (icmp and icmp[icmptype] == icmp-unreach) or "
        "(icmp6 and ip6[40] == 1))",
        kSourcePortBase, kSourcePortBase + kSourcePortCount - 1);
}
}  // namespace

Capture::Capture(std::uint64_t probes) {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_ = pcap_create("any", err);
    if (!pcap_) throw RuntimeError(fmt::format("cannot open packet capture: {}", err));
    pcap_set_snaplen(pcap_, kSnapLen);
    pcap_set_promisc(pcap_, 0);
    pcap_set_immediate_mode(pcap_, 0);  // packets come in blocks, every kPollMs at the latest
    pcap_set_buffer_size(pcap_, static_cast<int>(std::clamp(probes * kBytesPerAnswer, kMinBufferBytes, kMaxBufferBytes)));
    pcap_set_timeout(pcap_, kPollMs);
    if (const int rc = pcap_activate(pcap_); rc < 0) {
        const std::string why = pcap_geterr(pcap_);
        pcap_close(pcap_);
        throw RuntimeError(fmt::format("cannot start packet capture: {} (needs CAP_NET_RAW)", why));
    }
    // The "any" device speaks Linux cooked capture; v1 has a fixed 16-byte header.
    if (pcap_set_datalink(pcap_, DLT_LINUX_SLL) != 0 || pcap_datalink(pcap_) != DLT_LINUX_SLL) {
        const std::string why = pcap_geterr(pcap_);
        pcap_close(pcap_);
        throw RuntimeError(fmt::format("packet capture: cannot use Linux cooked headers: {}", why));
    }
    link_header_ = 16;
    // Only what comes in: without this the kernel hands the socket every probe we
    // send, for the filter to drop (Linux 4.20+; older kernels just filter).
    const int one = 1;
    if (setsockopt(pcap_fileno(pcap_), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0)
        spdlog::debug("packet capture: cannot ignore outgoing packets: {}", std::strerror(errno));
    bpf_program prog{};
    const std::string filter = capture_filter();
    if (pcap_compile(pcap_, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0 || pcap_setfilter(pcap_, &prog) != 0) {
        const std::string why = pcap_geterr(pcap_);
        pcap_freecode(&prog);
        pcap_close(pcap_);
        throw RuntimeError(fmt::format("packet capture filter '{}': {}", filter, why));
    }
    pcap_freecode(&prog);
    spdlog::debug("capture on 'any' with filter: {}", filter);
}

Capture::~Capture() {
    stop();
    if (pcap_) pcap_close(pcap_);
}

void Capture::start(Protocol proto, const Tagger& tagger) {
    stop();
    proto_ = proto;
    tagger_ = &tagger;
    {
        std::lock_guard lock(mu_);
        queue_.clear();
    }
    running_ = true;
    thread_ = std::thread([this] { loop(); });
}

void Capture::stop() {
    if (!running_.exchange(false)) return;
    pcap_breakloop(pcap_);
    if (thread_.joinable()) thread_.join();
}

void Capture::loop() {
    while (running_) {
        const int n = pcap_dispatch(pcap_, -1, &Capture::on_packet, reinterpret_cast<u_char*>(this));
        if (n == PCAP_ERROR) {
            spdlog::error("packet capture failed: {}", pcap_geterr(pcap_));
            break;
        }
    }
}

void Capture::on_packet(u_char* self, const pcap_pkthdr* h, const u_char* bytes) {
    reinterpret_cast<Capture*>(self)->handle(bytes, h->caplen);
}

bool Capture::matches(const Answer& a, const ProbeTag& tag) {
    if (a.our_port != tag.sport) return false;
    if (a.proto == Protocol::Udp) return !a.quoted || a.quoted_ip_id == tag.ip_id;
    if (a.quoted) return a.seq == tag.seq;
    // RFC 793 resets and handshakes: an ACK acknowledges our sequence number (plus
    // one for SYN or FIN); a reset without ACK carries our acknowledgement number.
    const std::uint8_t f = a.reply.tcp_flags;
    if (f & tcp_flag::ACK) return a.ack - tag.seq <= 1;
    return (f & tcp_flag::RST) && a.seq == tag.ack;
}

void Capture::handle(const std::uint8_t* bytes, std::size_t len) {
    ++seen_;
    if (len <= static_cast<std::size_t>(link_header_)) return;
    const std::uint16_t ethertype = static_cast<std::uint16_t>(bytes[14] << 8 | bytes[15]);
    const std::span<const std::uint8_t> ip{bytes + link_header_, len - link_header_};
    std::optional<Answer> answer;
    if (ethertype == 0x0800) answer = parse_ipv4_answer(ip);
    else if (ethertype == 0x86dd) answer = parse_ipv6_answer(ip);
    if (!answer || answer->proto != proto_) return;
    if (!matches(*answer, tagger_->tag(answer->target, answer->target_port))) {
        spdlog::trace("ignored a packet from {} port {} to port {}: not an answer to this scan",
                      answer->target.str(), answer->target_port, answer->our_port);
        return;
    }
    {
        std::lock_guard lock(mu_);
        queue_.push_back(*answer);
    }
    cv_.notify_one();
}

std::uint64_t Capture::packets_dropped() const {
    pcap_stat st{};
    return pcap_stats(pcap_, &st) == 0 ? st.ps_drop : 0;
}

}  // namespace scanfw
