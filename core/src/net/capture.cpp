#include "net/capture.hpp"

#include <linux/if_packet.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/errors.hpp"
#include "scanfw/wire.hpp"

namespace scanfw {

namespace {
// The kernel's ring: up to about 100,000 answers of slack, less for a small scan (the
// kernel takes about 1 ms per MiB to set it up).
constexpr std::uint64_t kMaxBufferBytes = 16 << 20, kMinBufferBytes = 1 << 20, kBytesPerAnswer = 256;
// Answers come in blocks, a block at the latest this long after its first packet
// (round trips are measured from the kernel's timestamps, not from when a block came).
constexpr int kPollMs = 1;
// How far the capture's horizon trails the start of a read that emptied the ring: the
// block timeout, and as much again for the kernel's timer to be late.
constexpr auto kHorizonLag = std::chrono::milliseconds(3 * kPollMs);
constexpr std::size_t kCookedHeader = 16;  // Linux cooked capture (v1)

// What each kind of reply is made of, in the packet that carries it.
void fill(Answer& a, const Received& r, Reply::Kind kind) {
    Reply& f = a.fields;
    f.kind = kind;
    f.ttl = r.ttl;
    f.ip_protocol = r.protocol;
    f.tcp_flags = r.tcp_flags;
    f.tcp_window = r.tcp_window;
    f.icmp_type = r.icmp_type;
    f.icmp_code = r.icmp_code;
    f.unreach = r.unreach;
    if (kind == Reply::Kind::IcmpError) f.ip_protocol = r.quoted.protocol;
    a.transport = r.transport_off;
    a.payload = r.payload_off;
    a.quoted = r.what == Received::What::IcmpError ? r.quoted_off : 0;
}
}  // namespace

Capture::Capture(std::uint64_t probes) {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_ = pcap_create("any", err);
    if (!pcap_) throw RuntimeError(fmt::format("cannot open packet capture: {}", err));
    pcap_set_snaplen(pcap_, static_cast<int>(kSnapLen + kCookedHeader));
    pcap_set_promisc(pcap_, 0);
    pcap_set_immediate_mode(pcap_, 0);  // packets come in blocks, every kPollMs at the latest
    pcap_set_buffer_size(pcap_, static_cast<int>(std::clamp(probes * kBytesPerAnswer, kMinBufferBytes, kMaxBufferBytes)));
    pcap_set_timeout(pcap_, kPollMs);
    pcap_set_tstamp_precision(pcap_, PCAP_TSTAMP_PRECISION_NANO);
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
    // Only what comes in: without this the kernel hands the socket every probe we
    // send, for the filter to drop (Linux 4.20+; older kernels just filter).
    const int one = 1;
    if (setsockopt(pcap_fileno(pcap_), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0)
        spdlog::debug("packet capture: cannot ignore outgoing packets: {}", std::strerror(errno));
    // The loop waits in poll() itself, at most a block timeout: with TPACKET_V3 libpcap
    // waits for the kernel to hand over a block, and the kernel does not hand over an
    // empty one (6.18 does not; older kernels did), so a blocking read with nothing to
    // capture never returned and the horizon, and with it every silent try, stood still.
    if (pcap_setnonblock(pcap_, 1, err) != 0) {
        pcap_close(pcap_);
        throw RuntimeError(fmt::format("packet capture: cannot read without blocking: {}", err));
    }
    // Nothing passes until start() sets the scan's filter.
    bpf_program none{};
    if (pcap_compile(pcap_, &none, "less 1", 1, PCAP_NETMASK_UNKNOWN) == 0) {
        pcap_setfilter(pcap_, &none);
        pcap_freecode(&none);
    }
    event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (event_fd_ < 0) {
        pcap_close(pcap_);
        throw RuntimeError(fmt::format("eventfd: {}", std::strerror(errno)));
    }
}

Capture::~Capture() {
    stop();
    if (pcap_) pcap_close(pcap_);
    if (event_fd_ >= 0) close(event_fd_);
}

void Capture::start(const std::string& filter, const Matcher& matcher) {
    stop();
    bpf_program prog{};
    if (pcap_compile(pcap_, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0 || pcap_setfilter(pcap_, &prog) != 0) {
        const std::string why = pcap_geterr(pcap_);
        pcap_freecode(&prog);
        throw RuntimeError(fmt::format("packet capture filter '{}': {}", filter, why));
    }
    pcap_freecode(&prog);
    spdlog::debug("capture on 'any' with filter: {}", filter);
    matcher_ = &matcher;
    realtime_to_steady_ = Clock::now().time_since_epoch() - std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                                std::chrono::system_clock::now().time_since_epoch());
    {
        std::lock_guard lock(mu_);
        queue_.clear();
        horizon_ = Clock::now();  // nothing before the start answers this run
    }
    running_ = true;
    thread_ = std::thread([this] { loop(); });
}

void Capture::stop() {
    if (!running_.exchange(false)) return;
    {
        std::lock_guard lock(mu_);
        taken_.notify_all();
    }
    pcap_breakloop(pcap_);
    if (thread_.joinable()) thread_.join();
}

void Capture::loop() {
    while (running_) {
        {
            // The engine is behind: leave the backlog in the kernel's ring until it has
            // taken the queue (or within 20 ms, to see stop()).
            std::unique_lock lock(mu_);
            taken_.wait_for(lock, std::chrono::milliseconds(20), [&] { return queue_.size() < kMaxQueued || !running_; });
            if (queue_.size() >= kMaxQueued) continue;
        }
        pollfd pfd{pcap_get_selectable_fd(pcap_), POLLIN, 0};
        if (poll(&pfd, 1, kPollMs) < 0 && errno != EINTR) {
            spdlog::error("packet capture failed: poll: {}", std::strerror(errno));
            break;
        }
        const Clock::time_point began = Clock::now();
        const int n = pcap_dispatch(pcap_, kPacketsPerDispatch, &Capture::on_packet, reinterpret_cast<u_char*>(this));
        if (n == PCAP_ERROR) {
            spdlog::error("packet capture failed: {}", pcap_geterr(pcap_));
            break;
        }
        if (n >= 0 && n < kPacketsPerDispatch) {
            // The ring was empty at the end: whatever came a block timeout before this
            // read began is queued.
            std::lock_guard lock(mu_);
            horizon_ = std::max(horizon_, began - kHorizonLag);
        }
    }
}

void Capture::answers_of(std::span<const std::uint8_t> frame, const Matcher& matcher, std::vector<Answer>& out) {
    if (frame.size() <= kCookedHeader) return;
    const std::uint16_t ethertype = wire::get16(frame.data() + 14);
    const auto packet = frame.subspan(kCookedHeader);
    const auto received = parse_packet(packet, ethertype);
    if (!received) return;
    thread_local std::vector<Match> matches;
    matches.clear();
    matcher.match(*received, matches);
    if (matches.empty()) {
        spdlog::trace("ignored a packet from {}: it answers no probe of this scan", received->src.str());
        return;
    }
    // The sender's link-layer address, when the frame has one of Ethernet's size.
    std::optional<MacAddress> mac = received->link_addr;
    if (!mac && wire::get16(frame.data() + 4) == 6) {
        MacAddress m;
        std::memcpy(m.data(), frame.data() + 6, 6);
        mac = m;
    }
    const std::size_t len = std::min<std::size_t>({packet.size(), kSnapLen, received->end ? received->end : packet.size()});
    for (const Match& m : matches) {
        Answer& a = out.emplace_back();
        a.item = m.item;
        a.ours = received->what == Received::What::IcmpError ? received->quoted.src : received->dst;
        a.mac = mac;
        fill(a, *received, m.kind);
        a.len = static_cast<std::uint16_t>(len);
        std::memcpy(a.bytes.data(), packet.data(), len);
    }
}

void Capture::on_packet(u_char* self_ptr, const pcap_pkthdr* h, const u_char* bytes) {
    auto* self = reinterpret_cast<Capture*>(self_ptr);
    ++self->seen_;
    self->scratch_.clear();
    answers_of({bytes, h->caplen}, *self->matcher_, self->scratch_);
    if (self->scratch_.empty()) return;
    // Nanosecond precision: tv_usec holds nanoseconds.
    const auto stamp = std::chrono::seconds(h->ts.tv_sec) + std::chrono::nanoseconds(h->ts.tv_usec);
    const Clock::time_point at(std::chrono::duration_cast<Clock::duration>(stamp + self->realtime_to_steady_));
    for (Answer& a : self->scratch_) a.at = at;
    bool was_empty;
    {
        std::lock_guard lock(self->mu_);
        was_empty = self->queue_.empty();
        self->queue_.insert(self->queue_.end(), self->scratch_.begin(), self->scratch_.end());
    }
    if (was_empty) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = write(self->event_fd_, &one, sizeof one);
    }
}

Clock::time_point Capture::take(std::vector<Answer>& out) {
    std::uint64_t counter;
    [[maybe_unused]] const auto n = read(event_fd_, &counter, sizeof counter);  // clears the wake-up
    std::lock_guard lock(mu_);
    if (out.empty()) out.swap(queue_);
    else {
        out.insert(out.end(), queue_.begin(), queue_.end());
        queue_.clear();
    }
    taken_.notify_one();
    return horizon_;
}

std::uint64_t Capture::packets_dropped() const {
    pcap_stat st{};
    return pcap_stats(pcap_, &st) == 0 ? st.ps_drop : 0;
}

}  // namespace scanfw
