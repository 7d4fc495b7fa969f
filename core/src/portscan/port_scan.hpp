// The port scan phase: which (technique, port) items each host gets, and what their
// verdicts become: Results for the outputs, and with -Pn each host's status ("up,
// user-set") before its first result, again if its MAC address (a host on a local
// segment) is learned only later.
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "common/result.hpp"
#include "engine/order.hpp"
#include "engine/scheduler.hpp"
#include "net/routes.hpp"

namespace scanfw {

// The items of hosts found up, handed out as they come: each host's (technique, port)
// pairs in an order of its own, interleaved across the hosts being scanned.
class UpHosts final : public ItemSource {
public:
    // `closed`: whether more hosts may still come (discovery is not over). `ordered`
    // (-r): each host's pairs in order.
    UpHosts(std::span<const Job> jobs, std::span<const std::uint16_t> port_jobs, const SipKey& key,
            std::function<bool()> closed, bool ordered = false);
    void add(const IpAddress& host);
    bool next(Item& out) override;
    bool finished() const override { return active_.empty() && waiting_.empty() && closed_(); }
    std::uint64_t position() const override { return handed_; }
    std::uint64_t total() const override { return hosts_ * pairs_.size(); }

private:
    struct Active {
        IpAddress host;
        Permutation order;
        std::uint64_t next = 0;
    };
    static constexpr std::size_t kActive = 256;  // hosts interleaved at once
    std::vector<std::pair<std::uint16_t, std::uint16_t>> pairs_;
    SipKey key_;
    bool ordered_;
    std::deque<IpAddress> waiting_;
    std::vector<Active> active_;
    std::size_t turn_ = 0;
    std::uint64_t handed_ = 0, hosts_ = 0;
    std::function<bool()> closed_;
};

class PortScan final : public ItemSink {
public:
    // `host_status`: report each host's status (-Pn); off when discovery reports it.
    // `names`: the name a user gave for a host, if any.
    PortScan(std::span<const Job> jobs, ResultSink& out, Routes& routes, bool host_status,
             std::function<std::string(const IpAddress&)> names);
    void on_item(const Job& job, const Item& item, const Verdict& verdict, const Outcome& outcome) override;
    // Room for this many hosts at once (capped), so the table never rehashes (which
    // holds the old and the new slots at once).
    void reserve(std::uint64_t hosts);
    std::uint64_t results() const { return results_; }
    std::uint64_t open() const { return open_; }

private:
    struct Host {  // 4 bytes: a -Pn scan of a /16 keeps nearly every host here at once
        std::uint32_t results : 31 = 0;
        std::uint32_t has_mac : 1 = 0;
    };
    void report(const IpAddress& addr, const std::optional<MacAddress>& mac, bool update);
    std::span<const Job> jobs_;
    ResultSink& out_;
    Routes& routes_;
    bool host_status_;
    std::function<std::string(const IpAddress&)> names_;
    std::uint32_t per_host_ = 0;  // items each host gets
    absl::flat_hash_map<IpAddress, Host, IpAddressHash> hosts_;
    std::uint64_t results_ = 0, open_ = 0;
};

}  // namespace scanfw
