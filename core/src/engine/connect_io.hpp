// Probes as connect() calls: thousands of non-blocking connections in flight, watched
// with epoll. Needs no privileges; the kernel does the handshake and we read its
// verdict (Reply::Kind::Connect).
#pragma once

#include <absl/container/flat_hash_map.h>

#include "engine/io.hpp"

namespace scanfw {

class ConnectIo final : public ProbeIo {
public:
    // `bind_source`: bind each socket to the source the engine chose (--source-ip);
    // `ifindex`: to this interface (-e; 0: none).
    explicit ConnectIo(bool bind_source, int ifindex = 0);
    ~ConnectIo() override;
    void begin(std::span<const Job>) override {}
    void end() override;
    bool send(const Job& job, const Item& item, const IpAddress& source, SendMark& mark) override;
    void flush() override {}
    void forget(const Item& item) override;
    void take_ready(std::vector<Answer>& out) override;
    int wait_fd() const override { return epoll_; }
    std::uint64_t sent() const override { return opened_; }

    // As many descriptors as the process may have, leaving room for outputs.
    static std::size_t parallelism();

private:
    void complete(int fd, int err, std::vector<Answer>& out);
    const bool bind_source_;
    const int ifindex_;
    const std::size_t parallel_;
    const int epoll_;
    std::uint64_t opened_ = 0, next_mark_ = 1;
    absl::flat_hash_map<int, Item> items_;            // by socket
    absl::flat_hash_map<Item, int, ItemHash> sockets_;  // by item
    std::vector<std::pair<int, int>> finished_;         // (fd, errno) known at connect()
};

}  // namespace scanfw
