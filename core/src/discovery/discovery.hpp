// Host discovery: which hosts are up, asked with host techniques (icmp-echo, arp, ...).
// A host is up as soon as one probe says so: it is reported, handed to the port scan at
// once and its other discovery probes are dropped; it is down when every probe
// concluded down. Discovery and the port scan run in one engine, so a large sweep
// and the scan of what it finds overlap.
#pragma once

#include <functional>
#include <span>
#include <string>

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include "common/result.hpp"
#include "engine/order.hpp"
#include "engine/scheduler.hpp"
#include "cli/plan.hpp"
#include "net/routes.hpp"
#include "targets/target_source.hpp"

namespace scanfw {

class Discovery final : public ItemSink {
public:
    struct Hooks {
        std::function<void(const IpAddress&)> up;        // a host found up: scan its ports
        std::function<void(const Item&)> cancel;         // a discovery probe no longer needed
        std::function<std::string(const IpAddress&)> name;  // the name the user gave, if any
        // Whether a host technique is for this host (ARP: on a local segment, IPv4);
        // empty: every one is.
        std::function<bool(std::uint16_t job, const IpAddress&)> applies;
        // Whether the host is this machine's own address (up at once, as nmap's
        // "localhost-response").
        std::function<bool(const IpAddress&)> local;
    };
    // `items` hands out the discovery items (host x probe) of `host_jobs`.
    Discovery(std::span<const Job> jobs, ItemSource& items, ResultSink& out, Routes& routes, Hooks hooks);

    // Discovery's items, counted as they are handed out; items of hosts already up are
    // passed over.
    ItemSource& items() { return source_; }
    bool done() const { return source_.finished() && hosts_.empty(); }

    void on_item(const Job& job, const Item& item, const Verdict& verdict, const Outcome& outcome) override;
    std::uint64_t up() const { return up_; }
    std::uint64_t down() const { return down_; }

private:
    struct Host {  // not decided yet
        std::uint32_t outstanding = 0;  // items handed out and not concluded
        std::uint32_t concluded = 0;
        std::uint32_t expected = 0;     // items this host gets
        std::string_view down_reason = "no-response";
        std::uint8_t down_ttl = 0;
    };
    class Source final : public ItemSource {
    public:
        Source(Discovery& d, ItemSource& inner) : d_(d), inner_(inner) {}
        bool next(Item& out) override;
        bool finished() const override { return inner_.finished(); }
        std::uint64_t position() const override { return inner_.position(); }
        std::uint64_t total() const override { return inner_.total(); }

    private:
        Discovery& d_;
        ItemSource& inner_;
    };
    void report_up(const Item& item, const Verdict& verdict, const Outcome& outcome);

    std::span<const Job> jobs_;
    ResultSink& out_;
    Routes& routes_;
    Hooks hooks_;
    Source source_;
    absl::flat_hash_map<IpAddress, Host, IpAddressHash> hosts_;
    absl::flat_hash_set<IpAddress, IpAddressHash> up_hosts_;  // found up in this chunk
    std::uint64_t up_ = 0, down_ = 0;
};

// ARP and neighbour discovery, asked for explicitly, reach only hosts on a local
// Ethernet segment: a target elsewhere is a mistake, said before anything is sent
// (InputError). Samples each chunk of `targets`, and leaves it rewound.
void check_link_targets(const Jobs& plan, TargetSource& targets, Routes& routes);

}  // namespace scanfw
