#include "engine/connect_io.hpp"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "net/socket_address.hpp"
#include "system/descriptors.hpp"

namespace scanfw {

std::size_t ConnectIo::parallelism() { return socket_budget(8192); }

ConnectIo::ConnectIo(bool bind_source, int ifindex)
    : bind_source_(bind_source), ifindex_(ifindex), parallel_(parallelism()), epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    if (epoll_ < 0) throw RuntimeError(fmt::format("epoll_create1: {}", std::strerror(errno)));
}

ConnectIo::~ConnectIo() {
    end();
    close(epoll_);
}

void ConnectIo::end() {
    for (auto& [fd, item] : items_) close(fd);
    items_.clear();
    sockets_.clear();
    finished_.clear();
}

bool ConnectIo::send(const Job&, const Item& item, const IpAddress& source, SendMark& mark) {
    if (items_.size() >= parallel_) return false;
    forget(item);  // a retransmission replaces the try before it
    const int fd = socket(item.host.family == Family::V4 ? AF_INET : AF_INET6,
                          SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;  // out of descriptors for now: later
    ++opened_;
    mark = {next_mark_++, 0};
    const linger lg{1, 0};  // close() sends RST, as a scanner should, and leaves no TIME_WAIT
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    socklen_t len = 0;
    // -e: through that interface (an unbound socket needs no privilege for it).
    if (ifindex_ != 0 && setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &ifindex_, sizeof ifindex_) != 0) {
        const int err = errno;
        close(fd);
        throw RuntimeError(fmt::format("-e: cannot bind a socket to interface {}: {}", ifindex_, std::strerror(err)));
    }
    if (bind_source_) {
        const int one = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        const sockaddr_storage src = socket_address(source, 0, len);
        if (bind(fd, reinterpret_cast<const sockaddr*>(&src), len) != 0) {
            const int err = errno;
            close(fd);
            throw RuntimeError(fmt::format("cannot send from {}: {}", source.str(), std::strerror(err)));
        }
    }
    items_.emplace(fd, item);
    sockets_[item] = fd;
    const sockaddr_storage sa = socket_address(item.host, item.port, len);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), len) == 0) {
        finished_.emplace_back(fd, 0);
    } else if (errno != EINPROGRESS) {
        finished_.emplace_back(fd, errno);
    } else {
        epoll_event ev{};
        ev.events = EPOLLOUT;
        ev.data.fd = fd;
        epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    }
    return true;
}

void ConnectIo::forget(const Item& item) {
    const auto it = sockets_.find(item);
    if (it == sockets_.end()) return;
    close(it->second);  // also leaves the epoll set
    items_.erase(it->second);
    sockets_.erase(it);
}

void ConnectIo::complete(int fd, int err, std::vector<Answer>& out) {
    const auto it = items_.find(fd);
    if (it == items_.end()) return;
    Answer& a = out.emplace_back();
    a.item = it->second;
    a.fields.kind = Reply::Kind::Connect;
    a.fields.connect_errno = err;
    sockets_.erase(it->second);
    items_.erase(it);
    close(fd);
}

void ConnectIo::take_ready(std::vector<Answer>& out) {
    for (const auto& [fd, err] : finished_) complete(fd, err, out);
    finished_.clear();
    epoll_event events[256];
    const int n = epoll_wait(epoll_, events, 256, 0);
    for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        complete(fd, err, out);
    }
}

}  // namespace scanfw
