// The service prober (core/src/services/prober.cpp) against real servers started
// here on 127.0.0.1 and ::1 (tests/support/local_servers.hpp): a banner, silence, a
// close at once, an endless stream, a TLS server with a key and certificate made
// here, UDP; nmap's probe order, intensity, softmatch narrowing, fallbacks,
// tcpwrapped, Exclude, many services at once, and Ctrl-C. The probe files are
// written by the tests, with short waits.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "system/interrupt.hpp"
#include "services/prober.hpp"
#include "support/local_servers.hpp"

using scanfw::IpAddress;
using namespace scanfw::services;
using namespace scanfw::testing;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using Clock = std::chrono::steady_clock;

namespace {

const IpAddress kV4 = *IpAddress::parse("127.0.0.1");
const IpAddress kV6 = *IpAddress::parse("::1");

ProbeDb db_of(const std::string& text) { return ProbeDb::parse(text, "test.probes"); }

std::vector<std::pair<ServiceTarget, ServiceResult>> probe_all(const ProbeDb& db, const std::vector<ServiceTarget>& targets,
                                                               ProberOptions options = {}) {
    std::vector<std::pair<ServiceTarget, ServiceResult>> out;
    ServiceProber prober(db, options);
    const std::size_t n = prober.run(targets, [&](const ServiceTarget& t, const ServiceResult& r) { out.emplace_back(t, r); });
    EXPECT_EQ(n, targets.size());
    EXPECT_EQ(out.size(), targets.size());
    return out;
}

ServiceResult probe_one(const ProbeDb& db, const IpAddress& host, std::uint16_t port, bool udp = false,
                        ProberOptions options = {}) {
    const auto all = probe_all(db, {ServiceTarget{host, port, udp}}, options);
    return all.empty() ? ServiceResult{} : all.front().second;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// What a server saw, chunk by chunk, across connections.
class Recorder {
public:
    void add(std::string s) {
        std::lock_guard l(mu_);
        seen_.push_back(std::move(s));
    }
    std::vector<std::string> seen() {
        std::lock_guard l(mu_);
        return seen_;
    }
    // seen() once it holds at least n chunks, or after 2 s: the server's threads
    // record what they read on their own time, which on a loaded machine may come
    // after the prober has already given up on the probe.
    std::vector<std::string> seen_at_least(std::size_t n) {
        for (int i = 0; i < 200; ++i) {
            {
                std::lock_guard l(mu_);
                if (seen_.size() >= n) return seen_;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return seen();
    }

private:
    std::mutex mu_;
    std::vector<std::string> seen_;
};

// Records every chunk it receives and answers those in `replies`; says nothing else.
TcpServer::Handler recording(Recorder& rec, std::map<std::string, std::string> replies = {},
                             std::string banner = "") {
    return [&rec, replies = std::move(replies), banner = std::move(banner)](int fd) {
        if (!banner.empty() && !send_all(fd, banner)) return;
        while (true) {
            const std::string got = recv_some(fd, 5000ms);
            if (got.empty()) return;
            rec.add(got);
            if (const auto it = replies.find(got); it != replies.end()) send_all(fd, it->second);
        }
    };
}

std::string ports_line(const TcpServer& s) { return std::to_string(s.port4()) + "," + std::to_string(s.port6()); }

}  // namespace

TEST(ServicesProber, BannerOverIpv4AndIpv6) {
    TcpServer server([](int fd) {
        send_all(fd, "220 FakeFTP 3.1 ready\r\n");
        drain(fd);
    });
    const ProbeDb db = db_of(
        "Probe TCP NULL q||\ntotalwaitms 6000\n"
        "match ftp m|^220 FakeFTP ([\\d.]+) | p/FakeFTP/ v/$1/ i/on $1/ cpe:/a:fake:ftp:$1/\n");
    const auto t0 = Clock::now();
    const auto results = probe_all(db, {{kV4, server.port4(), false}, {kV6, server.port6(), false}});
    EXPECT_LT(seconds_since(t0), 4.0);  // the banner comes at once: no waiting out the 6 s
    for (const auto& [t, r] : results) {
        EXPECT_EQ(r.outcome, ServiceOutcome::HardMatch) << t.host.str();
        EXPECT_TRUE(r.identified);
        EXPECT_EQ(r.id.name, "ftp");
        EXPECT_EQ(r.id.product, "FakeFTP");
        EXPECT_EQ(r.id.version, "3.1");
        EXPECT_EQ(r.id.extrainfo, "on 3.1");
        EXPECT_THAT(r.id.cpe, ElementsAre("cpe:/a:fake:ftp:3.1"));
        EXPECT_EQ(r.method, "probed");
        EXPECT_EQ(r.conf, 10);
        EXPECT_EQ(r.tunnel, "");
        EXPECT_EQ(r.probe, "NULL");
    }
}

TEST(ServicesProber, SilenceCostsOnlyTheWaits) {
    Recorder rec;
    TcpServer server(recording(rec));
    const ProbeDb db = db_of(
        "Probe TCP NULL q||\ntotalwaitms 300\n"
        "Probe TCP Hello q|HELLO\\r\\n|\nrarity 1\ntotalwaitms 300\nmatch hello m|^HI|\n");
    const auto t0 = Clock::now();
    const ServiceResult r = probe_one(db, kV4, server.port4());
    const double took = seconds_since(t0);
    EXPECT_EQ(r.outcome, ServiceOutcome::NoMatch);
    EXPECT_FALSE(r.identified);
    EXPECT_EQ(r.method, "table");
    EXPECT_EQ(r.conf, 3);
    EXPECT_EQ(r.id.name, "");
    EXPECT_GE(took, 0.55);
    EXPECT_LT(took, 4.0);
    EXPECT_EQ(server.accepted(), 1);  // Hello went over the NULL probe's connection
    EXPECT_THAT(rec.seen(), ElementsAre("HELLO\r\n"));
}

TEST(ServicesProber, ClosedAtOnceIsTcpwrapped) {
    TcpServer closer([](int) {});
    const ProbeDb db = db_of("Probe TCP NULL q||\ntotalwaitms 2000\ntcpwrappedms 1000\nmatch x m|^X|\n"
                             "Probe TCP Hello q|HELLO|\nrarity 1\nmatch x m|^X|\n");
    for (const auto& [host, port] : {std::pair{kV4, closer.port4()}, std::pair{kV6, closer.port6()}}) {
        const ServiceResult r = probe_one(db, host, port);
        EXPECT_EQ(r.outcome, ServiceOutcome::TcpWrapped) << host.str();
        EXPECT_EQ(r.id.name, "tcpwrapped");
        EXPECT_TRUE(r.identified);
        EXPECT_EQ(r.method, "probed");
        EXPECT_EQ(r.conf, 8);
    }
    // A byte before the close is an answer: no longer tcpwrapped.
    TcpServer talker([](int fd) { send_all(fd, "?"); });
    EXPECT_EQ(probe_one(db, kV4, talker.port4()).outcome, ServiceOutcome::NoMatch);
}

TEST(ServicesProber, EndlessStreamIsCutAtFourKilobytes) {
    std::atomic<long> sent{0};
    TcpServer streamer([&sent](int fd) {
        const std::string chunk(65536, 'A');
        while (send_all(fd, chunk)) sent += 65536;
    });
    const ProbeDb db = db_of(
        "Probe TCP NULL q||\ntotalwaitms 5000\nmatch z m|^Z|\n"
        "Probe TCP One q|1|\nrarity 1\ntotalwaitms 5000\nmatch z m|^Z|\n"
        "Probe TCP Two q|2|\nrarity 1\ntotalwaitms 5000\nmatch z m|^Z|\n");
    const auto t0 = Clock::now();
    const ServiceResult r = probe_one(db, kV4, streamer.port4());
    EXPECT_LT(seconds_since(t0), 4.0);  // 4 KiB ends each probe: none waits its 5 s
    EXPECT_EQ(r.outcome, ServiceOutcome::NoMatch);
    EXPECT_EQ(streamer.accepted(), 2);  // NULL and One share a connection
}

TEST(ServicesProber, ProbeOrderFollowsPortsThenRarity) {
    Recorder rec;
    TcpServer server(recording(rec));
    const std::string ports = ports_line(server);
    const ProbeDb db = db_of(
        "Probe TCP NULL q||\ntotalwaitms 100\n"
        "Probe TCP A q|A|\nrarity 1\ntotalwaitms 100\nmatch a m|^a|\n"
        "Probe TCP B q|B|\nrarity 8\ntotalwaitms 100\nmatch b m|^b|\n"
        "Probe TCP C q|C|\nrarity 9\nports " + ports + "\ntotalwaitms 100\nmatch c m|^c|\n"
        "Probe UDP U q|U|\nrarity 1\ntotalwaitms 100\n"
        "Probe TCP D q|D|\nrarity 2\ntotalwaitms 100\nmatch d m|^d|\n"
        "Probe TCP E q|E|\ntotalwaitms 100\nmatch e m|^e|\n");  // no rarity line: 5
    const std::map<int, std::vector<std::string>> expected = {
        {0, {"C"}}, {1, {"C", "A"}}, {2, {"C", "A", "D"}}, {7, {"C", "A", "D", "E"}}, {9, {"C", "A", "B", "D", "E"}}};
    std::size_t before = 0;
    for (const auto& [intensity, order] : expected) {
        ProberOptions o;
        o.intensity = intensity;
        EXPECT_EQ(probe_one(db, kV4, server.port4(), false, o).outcome, ServiceOutcome::NoMatch);
        auto seen = rec.seen_at_least(before + order.size());
        seen.erase(seen.begin(), seen.begin() + static_cast<long>(before));
        before += seen.size();
        EXPECT_EQ(seen, order) << "intensity " << intensity;
    }
    EXPECT_THROW(ServiceProber(db, ProberOptions{.intensity = 10}), std::invalid_argument);
    EXPECT_THROW(ServiceProber(db, ProberOptions{.intensity = -1}), std::invalid_argument);
}

TEST(ServicesProber, SoftmatchNarrowsTheProbes) {
    const std::string kProbes =
        "Probe TCP NULL q||\ntotalwaitms 200\nsoftmatch ftp m|^220 |\n"
        "Probe TCP Web q|GET|\nrarity 1\ntotalwaitms 200\nmatch http m|^HTTP|\n"
        "Probe TCP Ftp q|FTPQ\\r\\n|\nrarity 1\ntotalwaitms 200\nmatch ftp m|220 FTPX ([\\d.]+)| p/FTPX/ v/$1/\n";
    const ProbeDb db = db_of(kProbes);
    {
        Recorder rec;
        TcpServer server(recording(rec, {{"FTPQ\r\n", "220 FTPX 2.5\r\n"}}, "220 generic hello\r\n"));
        const ServiceResult r = probe_one(db, kV4, server.port4());
        EXPECT_EQ(r.outcome, ServiceOutcome::HardMatch);
        EXPECT_EQ(r.id.product, "FTPX");
        EXPECT_EQ(r.id.version, "2.5");
        EXPECT_EQ(r.probe, "Ftp");
        EXPECT_THAT(rec.seen(), ElementsAre("FTPQ\r\n"));  // Web cannot name ftp: not sent
    }
    {
        Recorder rec;
        TcpServer server(recording(rec, {}, "220 generic hello\r\n"));
        const ServiceResult r = probe_one(db, kV6, server.port6());
        EXPECT_EQ(r.outcome, ServiceOutcome::SoftMatch);  // nothing better: the softmatch stands
        EXPECT_EQ(r.id.name, "ftp");
        EXPECT_EQ(r.id.product, "");
        EXPECT_EQ(r.method, "probed");
        EXPECT_EQ(r.conf, 10);
        EXPECT_EQ(r.probe, "NULL");
        // --version-all (9) sends every probe even after a softmatch.
        ProberOptions all;
        all.intensity = 9;
        EXPECT_EQ(probe_one(db, kV4, server.port4(), false, all).outcome, ServiceOutcome::SoftMatch);
        EXPECT_THAT(rec.seen(), ElementsAre("FTPQ\r\n", "GET", "FTPQ\r\n"));
    }
}

TEST(ServicesProber, FallbackLinesMatch) {
    TcpServer server([](int fd) {
        if (!recv_some(fd).empty()) send_all(fd, "HTTP/1.0 200 OK\r\nServer: Fake/7\r\n\r\n");
        drain(fd, 2000ms);
    });
    const ProbeDb db = db_of(
        "Probe TCP NULL q||\ntotalwaitms 100\n"
        "Probe TCP Get q|GET / HTTP/1.0\\r\\n\\r\\n|\nrarity 9\n"
        "match http m|^HTTP/1\\.0 200 OK\\r\\nServer: Fake/(\\d)| p/Fake/ v/$1/\n"
        "Probe TCP Opt q|OPTIONS / HTTP/1.0\\r\\n\\r\\n|\nrarity 1\nfallback Get\nmatch rtsp m|^RTSP|\n");
    const ServiceResult r = probe_one(db, kV4, server.port4());
    EXPECT_EQ(r.outcome, ServiceOutcome::HardMatch);
    EXPECT_EQ(r.id.name, "http");
    EXPECT_EQ(r.id.product, "Fake");
    EXPECT_EQ(r.id.version, "7");
    EXPECT_EQ(r.probe, "Opt");  // Get itself was never sent (rarity 9)
}

namespace {

// A TLS server as a service behind SSL looks from outside: a TLS alert for a
// plain-text probe; through TLS, an optional banner, then HTTP answers.
TcpServer::Handler tls_service(const TlsServerContext& ctx, std::string banner) {
    return [&ctx, banner = std::move(banner)](int fd) {
        set_recv_timeout(fd, 5000ms);
        char first = 0;
        if (recv(fd, &first, 1, MSG_PEEK) != 1) return;
        if (first != 0x16) {  // not a TLS handshake record: a handshake-failure alert
            send_all(fd, std::string("\x15\x03\x01\x00\x02\x02\x28", 7));
            return;
        }
        SSL* ssl = SSL_new(ctx.get());
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1) {
            if (!banner.empty()) SSL_write(ssl, banner.data(), static_cast<int>(banner.size()));
            char buf[4096];
            const int n = SSL_read(ssl, buf, sizeof buf);
            if (n > 0 && std::string_view(buf, static_cast<std::size_t>(n)).substr(0, 3) == "GET") {
                const std::string reply = "HTTP/1.0 200 OK\r\nServer: TinyTLS/2.0\r\n\r\n";
                SSL_write(ssl, reply.data(), static_cast<int>(reply.size()));
            }
            SSL_shutdown(ssl);
        }
        SSL_free(ssl);
    };
}

std::string tls_probes(const std::string& ports) {
    return "Probe TCP NULL q||\ntotalwaitms 300\n"
           "match smtp m|^220 tlsmail| p/TLSMail/\n"
           "Probe TCP Hello q|HELLO\\r\\n|\nrarity 1\nports " + ports + "\ntotalwaitms 1000\n"
           "match ssl m|^\\x15\\x03[\\x00-\\x04]\\x00\\x02\\x02|s p/TLS alert/\n"
           "Probe TCP GetRequest q|GET / HTTP/1.0\\r\\n\\r\\n|\nrarity 1\nsslports " + ports + "\ntotalwaitms 1000\n"
           "match http m|^HTTP/1\\.0 200 OK\\r\\nServer: TinyTLS/([\\d.]+)| p/TinyTLS/ v/$1/\n";
}

}  // namespace

TEST(ServicesProber, HttpsOnAnyPortIsHttpThroughSsl) {
    TlsServerContext ctx;
    TcpServer server(tls_service(ctx, ""));
    const ProbeDb db = db_of(tls_probes(ports_line(server)));
    const auto results = probe_all(db, {{kV4, server.port4(), false}, {kV6, server.port6(), false}});
    for (const auto& [t, r] : results) {
        EXPECT_EQ(r.outcome, ServiceOutcome::HardMatch) << t.host.str();
        EXPECT_EQ(r.id.name, "http");
        EXPECT_EQ(r.id.product, "TinyTLS");
        EXPECT_EQ(r.id.version, "2.0");
        EXPECT_EQ(r.tunnel, "ssl");
        EXPECT_EQ(r.probe, "GetRequest");
    }
}

TEST(ServicesProber, BannerRightAfterTheHandshake) {
    TlsServerContext ctx;
    TcpServer server(tls_service(ctx, "220 tlsmail ESMTP\r\n"));
    const ProbeDb db = db_of(tls_probes(ports_line(server)));
    const ServiceResult r = probe_one(db, kV4, server.port4());
    EXPECT_EQ(r.outcome, ServiceOutcome::HardMatch);
    EXPECT_EQ(r.id.name, "smtp");
    EXPECT_EQ(r.id.product, "TLSMail");
    EXPECT_EQ(r.tunnel, "ssl");
    EXPECT_EQ(r.probe, "NULL");
}

TEST(ServicesProber, SslSlashNameNeedsNoTunnel) {
    TcpServer server([](int fd) {
        send_all(fd, "SSLFOO 1.0\r\n");
        drain(fd, 2000ms);
    });
    const ProbeDb db = db_of("Probe TCP NULL q||\ntotalwaitms 1000\nmatch ssl/foo m|^SSLFOO ([\\d.]+)| p/Foo/ v/$1/\n");
    const ServiceResult r = probe_one(db, kV4, server.port4());
    EXPECT_EQ(r.outcome, ServiceOutcome::HardMatch);
    EXPECT_EQ(r.id.name, "foo");
    EXPECT_EQ(r.tunnel, "ssl");
    EXPECT_EQ(server.accepted(), 1);
}

TEST(ServicesProber, Udp) {
    UdpServer server([](const std::string& req) { return req == "PING\n" ? std::string("PONG 7.1\n") : std::string(); });
    const std::string ports = std::to_string(server.port4()) + "," + std::to_string(server.port6());
    const ProbeDb db = db_of(
        "Probe TCP NULL q||\n"
        "Probe UDP Junk q|JUNK|\nrarity 1\ntotalwaitms 300\nmatch junk m|^JUNK|\n"
        "Probe UDP Ping q|PING\\n|\nrarity 1\nports " + ports + "\ntotalwaitms 6000\n"
        "match pong m|^PONG ([\\d.]+)| p/Ponger/ v/$1/\n");
    const auto results = probe_all(db, {{kV4, server.port4(), true}, {kV6, server.port6(), true}});
    for (const auto& [t, r] : results) {
        EXPECT_EQ(r.outcome, ServiceOutcome::HardMatch) << t.host.str();
        EXPECT_EQ(r.id.name, "pong");
        EXPECT_EQ(r.id.version, "7.1");
        EXPECT_EQ(r.probe, "Ping");  // the probe listing the port went first
    }
    // A closed UDP port answers with ICMP port unreachable: no waiting out 6 s.
    std::uint16_t closed = 0;
    close(bind_loopback(AF_INET, SOCK_DGRAM, closed));
    const auto t0 = Clock::now();
    const ServiceResult r = probe_one(db, kV4, closed, true);
    EXPECT_EQ(r.outcome, ServiceOutcome::NoMatch);  // not tcpwrapped: that is TCP's
    EXPECT_LT(seconds_since(t0), 3.0);
}

TEST(ServicesProber, ManyAtOnceWithinTheLimit) {
    // Each connection gets its banner only after a second, so half a second in the
    // server has seen exactly as many connections as the prober keeps in flight.
    TcpServer server([](int fd) {
        std::this_thread::sleep_for(1000ms);
        send_all(fd, "SSH-2.0-Fake_1.0\r\n");
        drain(fd, 5000ms);
    });
    const ProbeDb db = db_of("Probe TCP NULL q||\ntotalwaitms 5000\nmatch ssh m|^SSH-2\\.0-Fake_([\\d.]+)| p/Fake/ v/$1/\n");
    std::vector<ServiceTarget> targets;
    for (int i = 0; i < 60; ++i) {
        targets.push_back({kV4, server.port4(), false});
        targets.push_back({kV6, server.port6(), false});
    }
    ProberOptions o;
    o.parallelism = 40;
    int at_500ms = -1;
    std::thread watcher([&] {
        std::this_thread::sleep_for(500ms);
        at_500ms = server.accepted();
    });
    const auto results = probe_all(db, targets, o);
    watcher.join();
    for (const auto& [t, r] : results) ASSERT_EQ(r.id.version, "1.0") << t.host.str();
    EXPECT_EQ(server.accepted(), 120);
    EXPECT_EQ(at_500ms, 40);
    ServiceProber automatic(db);
    EXPECT_GE(automatic.parallelism(), 8u);
}

TEST(ServicesProber, ExcludedPortsAreNotProbed) {
    TcpServer server([](int fd) { send_all(fd, "HI\r\n"); });
    const ProbeDb db = db_of("Exclude T:" + std::to_string(server.port4()) +
                             "\nProbe TCP NULL q||\ntotalwaitms 1000\nmatch hi m|^HI|\n");
    const ServiceResult r = probe_one(db, kV4, server.port4());
    EXPECT_EQ(r.outcome, ServiceOutcome::Excluded);
    EXPECT_EQ(r.id.product, "Excluded from version scan");
    EXPECT_FALSE(r.identified);
    EXPECT_EQ(server.accepted(), 0);
    ProberOptions all;
    all.all_ports = true;  // --allports
    EXPECT_EQ(probe_one(db, kV4, server.port4(), false, all).id.name, "hi");
    EXPECT_EQ(probe_one(db, kV6, server.port6()).id.name, "hi");  // another port
}

TEST(ServicesProber, MaxWaitBoundsOneService) {
    Recorder rec;
    TcpServer server(recording(rec));
    const ProbeDb db = db_of("Probe TCP NULL q||\ntotalwaitms 5000\nmatch x m|^X|\n");
    ProberOptions o;
    o.max_wait = 300ms;
    const auto t0 = Clock::now();
    const ServiceResult r = probe_one(db, kV4, server.port4(), false, o);
    EXPECT_LT(seconds_since(t0), 3.0);  // not the 5 s of the probe
    EXPECT_EQ(r.outcome, ServiceOutcome::Incomplete);
    EXPECT_FALSE(r.identified);
}

// Ctrl-C: run() returns within a fraction of a second, reporting nothing unfinished.
// In a child process: stop_requested() cannot be cleared once set.
TEST(ServicesProberDeathTest, StopsPromptlyWhenAsked) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            std::uint16_t port = 0;
            const int lfd = bind_loopback(AF_INET, SOCK_STREAM, port);
            listen(lfd, 64);  // the kernel completes connections nobody accepts: silence
            const ProbeDb db = db_of("Probe TCP NULL q||\ntotalwaitms 60000\n"
                                     "Probe TCP A q|A|\nrarity 1\ntotalwaitms 60000\n");
            std::thread stopper([] {
                std::this_thread::sleep_for(300ms);
                scanfw::request_stop();
            });
            ServiceProber prober(db);
            const std::vector<ServiceTarget> targets(20, ServiceTarget{kV4, port, false});
            const auto t0 = Clock::now();
            const std::size_t n = prober.run(targets, [](const ServiceTarget&, const ServiceResult&) {});
            const double took = seconds_since(t0);
            stopper.join();
            std::exit(n == 0 && took < 5.0 ? 0 : 1);  // not the 60 s of the probes
        },
        ::testing::ExitedWithCode(0), "");
}
