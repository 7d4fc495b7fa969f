#include "raw_socket.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "scanfw/engine.hpp"

namespace scanfw {

namespace {
int open_raw() {
    const int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    if (fd < 0) {
        const int err = errno;
        if (err == EPERM || err == EACCES)
            throw RuntimeError(
                "raw sockets need CAP_NET_RAW: run as root (or give the binary cap_net_raw,cap_net_admin+ep), "
                "or use --plugin connect, which needs no privileges");
        throw RuntimeError(fmt::format("cannot open a raw socket: {}", std::strerror(err)));
    }
    return fd;
}
}  // namespace

void require_raw_sockets() { close(open_raw()); }

RawSocket::RawSocket() : fd_(open_raw()) {
    const int on = 1;
    setsockopt(fd_, IPPROTO_IP, IP_HDRINCL, &on, sizeof on);
    const int sndbuf = 4 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
}

RawSocket::~RawSocket() {
    if (fd_ >= 0) close(fd_);
}

void RawSocket::commit(std::size_t len, const IpAddress& dst) {
    lengths_[count_] = len;
    sockaddr_in& sa = addrs_[count_];
    sa = {};
    sa.sin_family = AF_INET;
    std::memcpy(&sa.sin_addr, dst.bytes.data(), 4);
    ++count_;
}

void RawSocket::flush() {
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iovs{};
    for (std::size_t i = 0; i < count_; ++i) {
        iovs[i] = {buffers_[i].data(), lengths_[i]};
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &addrs_[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    }
    std::size_t done = 0;
    int stalls = 0;
    while (done < count_) {
        const int n = sendmmsg(fd_, msgs.data() + done, static_cast<unsigned>(count_ - done), 0);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EINTR) continue;
        if ((errno == ENOBUFS || errno == EAGAIN) && ++stalls < 100) {
            std::this_thread::sleep_for(std::chrono::microseconds(100));
            continue;
        }
        // A probe the kernel refuses (no route, EPERM from a local firewall) is
        // treated as sent and lost: its retries and timeout still run.
        spdlog::debug("sendmmsg: {}; skipping one probe", std::strerror(errno));
        ++done;
    }
    sent_ += count_;
    count_ = 0;
}

std::optional<IpAddress> SourceRoutes::source_for(const IpAddress& dst) {
    if (auto it = cache_.find(dst); it != cache_.end()) return it->second;
    if (dst.family != Family::V4) return std::nullopt;
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::nullopt;
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(9);
    std::memcpy(&sa.sin_addr, dst.bytes.data(), 4);
    std::optional<IpAddress> src;
    socklen_t len = sizeof sa;
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0) {
        IpAddress a;
        std::memcpy(a.bytes.data(), &sa.sin_addr, 4);
        src = a;
    }
    close(fd);
    if (cache_.size() > 65536) cache_.clear();
    if (src) cache_.emplace(dst, *src);
    return src;
}

}  // namespace scanfw
