// The outputs: nmap XML, grepable and normal, JSON Lines and the table, fed with
// results as the engines give them, read back as text.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "output/merge.hpp"
#include "output/outputs.hpp"
#include "output/record.hpp"
#include "output/spool.hpp"

namespace {

// Port names from /etc/services, as the expectations below are written: the tests
// must not depend on whether nmap's nmap-services is installed (service_names_test
// checks that one).
const bool kEtcServices = [] { return setenv("SCANFW_NMAP_SERVICES", "/etc/services", 1) == 0; }();

namespace fs = std::filesystem;
using namespace scanfw;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

Result result(std::string_view host, std::uint16_t port, std::string_view technique, State state,
              std::string_view reason, std::uint8_t ttl = 0, std::uint32_t rtt_us = 0) {
    Result r;
    r.host = *IpAddress::parse(host);
    r.port = port;
    r.protocol = technique == "udp" ? Protocol::Udp : Protocol::Tcp;
    r.technique = technique;
    r.state = state;
    r.reason = reason;
    r.ttl = ttl;
    r.rtt_us = rtt_us;
    return r;
}

ScanTechnique technique(const std::string& name, std::vector<std::uint16_t> ports) {
    return {name, name == "udp" ? Protocol::Udp : Protocol::Tcp, std::move(ports)};
}

ScanInfo scan_info(std::vector<ScanTechnique> techniques, std::uint64_t targets = 1) {
    ScanInfo info;
    info.techniques = std::move(techniques);
    info.argv = {"scanfw", "--plugin", "syn", "-p", "22,80", "198.18.0.2"};
    info.targets = targets;
    return info;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// 22 open, 80 open, 113 closed, 8080 filtered (silence), 8081 filtered (ICMP), 8082 closed.
std::vector<Result> testnet_syn(std::string_view host = "198.18.0.2") {
    return {result(host, 8081, "syn", State::Filtered, "admin-prohibited", 64),
            result(host, 22, "syn", State::Open, "syn-ack", 64, 120),
            result(host, 113, "syn", State::Closed, "reset", 64, 80),
            result(host, 8080, "syn", State::Filtered, "no-response"),
            result(host, 80, "syn", State::Open, "syn-ack", 64, 100),
            result(host, 8082, "syn", State::Closed, "reset", 64, 100)};
}
const std::vector<std::uint16_t> kTestnetTcp{22, 80, 113, 8080, 8081, 8082};

// A syn scan of ports 1-40: 22 open, the rest closed (more than 25: summarised).
std::vector<Result> many_closed(std::string_view host = "198.18.0.2") {
    std::vector<Result> out;
    for (std::uint16_t p = 40; p >= 1; --p)
        out.push_back(p == 22 ? result(host, p, "syn", State::Open, "syn-ack", 64)
                              : result(host, p, "syn", State::Closed, "reset", 64));
    return out;
}
std::vector<std::uint16_t> range(std::uint16_t lo, std::uint16_t hi) {
    std::vector<std::uint16_t> out;
    for (std::uint32_t p = lo; p <= hi; ++p) out.push_back(static_cast<std::uint16_t>(p));
    return out;
}

class OutputTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() /
               ("scanfw-output-test-" + std::to_string(::getpid()) + "-" + test->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string path(const std::string& name) const { return (dir_ / name).string(); }
    static std::string read(const std::string& file) {
        std::ifstream in(file, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }

    // Runs `out` through a whole scan (each host up, user-set, unless `hosts` says) and
    // returns what it wrote to `file`.
    std::string run(std::unique_ptr<Output> out, const std::string& file, const ScanInfo& info,
                    const std::vector<Result>& results, bool interrupted = false, std::vector<HostStatus> hosts = {}) {
        Outputs outs;
        outs.add(std::move(out));
        outs.begin(info);
        if (hosts.empty())
            for (const auto& r : results)
                if (std::none_of(hosts.begin(), hosts.end(), [&](const HostStatus& h) { return h.host == r.host; })) {
                    HostStatus h;
                    h.host = r.host;
                    hosts.push_back(h);
                }
        for (const auto& h : hosts) outs.on_host(h);
        for (const auto& r : results) outs.on_result(r);
        ScanSummary s;
        s.hosts = info.targets;
        s.results = results.size();
        s.seconds = 1.25;
        s.interrupted = interrupted;
        outs.end(s);
        return read(file);
    }
    // Valid against nmap's DTD, when xmllint and nmap.dtd are installed (the
    // integration tests require them; here they only add to the text checks).
    void expect_valid_xml(const std::string& file) {
        const char* dtd = "/usr/share/nmap/nmap.dtd";
        if (!fs::exists(dtd) || std::system("command -v xmllint >/dev/null 2>&1") != 0) return;
        const std::string cmd = "xmllint --noout --dtdvalid " + std::string(dtd) + " '" + file + "'";
        EXPECT_EQ(std::system(cmd.c_str()), 0) << read(file);
    }
    std::string run_xml(const ScanInfo& info, const std::vector<Result>& results, bool open_only = false) {
        const std::string xml = run(make_xml(path("out"), DisplayOptions{.open_only = open_only}), path("out"), info, results);
        expect_valid_xml(path("out"));
        return xml;
    }
    std::string run_grepable(const ScanInfo& info, const std::vector<Result>& results, bool open_only = false) {
        return run(make_grepable(path("out"), DisplayOptions{.open_only = open_only}), path("out"), info, results);
    }
    std::string run_normal(const ScanInfo& info, const std::vector<Result>& results, DisplayOptions d = {}) {
        return run(make_normal(path("out"), d), path("out"), info, results);
    }
    std::string run_json(const ScanInfo& info, const std::vector<Result>& results, bool open_only = false) {
        return run(make_json_lines(path("out"), DisplayOptions{.open_only = open_only}), path("out"), info, results);
    }

    fs::path dir_;
};

// ---- helpers ----------------------------------------------------------------------

TEST(OutputText, XmlEscape) {
    EXPECT_EQ(xml_escape(R"(a<b>&"c"'d')"), "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;");
    EXPECT_EQ(xml_escape("tab\there\nnl"), "tab&#9;here&#10;nl");
    EXPECT_EQ(xml_escape(std::string("bell\x07 nul") + '\0' + "!"), "bell? nul?!");  // no XML 1.0 form
    EXPECT_EQ(xml_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    EXPECT_EQ(xml_escape("bad \xff\xfe end"), "bad ?? end");
    EXPECT_EQ(xml_escape("overlong \xc0\xaf, truncated \xe2\x82"), "overlong ??, truncated ??");
    EXPECT_EQ(xml_escape("surrogate \xed\xa0\x80"), "surrogate ???");
    EXPECT_EQ(xml_escape("\xef\xbf\xbe"), "?");  // U+FFFE
}

TEST(OutputText, JsonEscape) {
    EXPECT_EQ(json_escape(R"(say "hi" \ bye)"), R"(say \"hi\" \\ bye)");
    EXPECT_EQ(json_escape("a\nb\tc\x01"), "a\\nb\\tc\\u0001");
    EXPECT_EQ(json_escape("caf\xc3\xa9 \xff"), "caf\xc3\xa9 ?");
}

TEST(OutputText, PortRanges) {
    EXPECT_EQ(port_ranges({}), "");
    EXPECT_EQ(port_ranges({22}), "22");
    EXPECT_EQ(port_ranges({22, 80, 113, 8080, 8081, 8082}), "22,80,113,8080-8082");
    EXPECT_EQ(port_ranges({1, 2, 3, 5, 65534, 65535}), "1-3,5,65534-65535");
}

TEST(OutputText, IgnoredStates) {
    EXPECT_FALSE(ignored_state(State::Closed, 25, false));
    EXPECT_TRUE(ignored_state(State::Closed, 26, false));
    EXPECT_TRUE(ignored_state(State::OpenFiltered, 1000, false));
    EXPECT_FALSE(ignored_state(State::Open, 65535, false));
    // --open: whatever may not be open goes, however few.
    EXPECT_TRUE(ignored_state(State::Closed, 1, true));
    EXPECT_TRUE(ignored_state(State::Filtered, 1, true));
    EXPECT_FALSE(ignored_state(State::OpenFiltered, 1, true));
    EXPECT_FALSE(ignored_state(State::Unfiltered, 1, true));
}

TEST(OutputText, AlignColumns) {
    EXPECT_EQ(align_columns({{"PORT", "STATE", "SERVICE"}, {"22/tcp", "open", "ssh"}, {"8080/tcp", "filtered", "x"}}),
              "PORT     STATE    SERVICE\n"
              "22/tcp   open     ssh\n"
              "8080/tcp filtered x\n");
}

TEST(OutputText, ServiceNamesFromEtcServices) {
    EXPECT_EQ(service_name(22, Protocol::Tcp), "ssh");
    EXPECT_EQ(service_name(53, Protocol::Udp), "domain");
    EXPECT_EQ(service_name(113, Protocol::Tcp), "auth");  // /etc/services' name; nmap-services says "ident"
    EXPECT_FALSE(service_name(8082, Protocol::Tcp));
}

// ---- XML --------------------------------------------------------------------------

TEST_F(OutputTest, XmlDocument) {
    const std::string xml = run_xml(scan_info({technique("syn", kTestnetTcp)}), testnet_syn(), false);
    const auto lines = lines_of(xml);
    ASSERT_GE(lines.size(), 10u);
    EXPECT_EQ(lines[0], R"(<?xml version="1.0" encoding="UTF-8"?>)");
    EXPECT_EQ(lines[1], "<!DOCTYPE nmaprun>");
    EXPECT_THAT(xml, HasSubstr(R"(<nmaprun scanner="nmap" args="scanfw --plugin syn -p 22,80 198.18.0.2" start=")"));
    EXPECT_THAT(xml, HasSubstr(R"(<scaninfo type="syn" protocol="tcp" numservices="6" services="22,80,113,8080-8082"/>)"
                               "\n<verbose level=\"0\"/>\n<debugging level=\"0\"/>\n<host starttime="));
    EXPECT_THAT(xml, HasSubstr(R"(<status state="up" reason="user-set" reason_ttl="0"/>)"
                               "\n<address addr=\"198.18.0.2\" addrtype=\"ipv4\"/>\n<hostnames>\n</hostnames>\n"));
    // Every port, sorted, with reason, reason_ttl and the service name when there is one.
    EXPECT_THAT(xml, HasSubstr(
        "<ports>"
        R"(<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="64"/>)"
        R"(<service name="ssh" method="table" conf="3"/></port>)" "\n"
        R"(<port protocol="tcp" portid="80"><state state="open" reason="syn-ack" reason_ttl="64"/>)"
        R"(<service name="http" method="table" conf="3"/></port>)" "\n"
        R"(<port protocol="tcp" portid="113"><state state="closed" reason="reset" reason_ttl="64"/>)"
        R"(<service name="auth" method="table" conf="3"/></port>)" "\n"
        R"(<port protocol="tcp" portid="8080"><state state="filtered" reason="no-response" reason_ttl="0"/>)"
        R"(<service name="http-alt" method="table" conf="3"/></port>)" "\n"
        R"(<port protocol="tcp" portid="8081"><state state="filtered" reason="admin-prohibited" reason_ttl="64"/>)"
        R"(<service name="tproxy" method="table" conf="3"/></port>)" "\n"
        R"(<port protocol="tcp" portid="8082"><state state="closed" reason="reset" reason_ttl="64"/></port>)" "\n"
        "</ports>\n</host>\n"));
    EXPECT_THAT(xml, HasSubstr(R"(elapsed="1.25" exit="success"/><hosts up="1" down="0" total="1"/>)"
                               "\n</runstats>\n</nmaprun>\n"));
    EXPECT_THAT(xml, HasSubstr("1 IP address (1 host up) scanned in 1.25 seconds"));
    EXPECT_THAT(xml, EndsWith("</nmaprun>\n"));
    EXPECT_THAT(xml, Not(HasSubstr("extraports")));
}

TEST_F(OutputTest, XmlEscapesTheCommandLine) {
    ScanInfo info = scan_info({technique("syn", {22})});
    info.argv = {"scanfw", "--plugin", "syn", "\"<a&b>\"", "'q'", "\x01", "\xff"};
    const std::string xml = run_xml(info, {result("198.18.0.2", 22, "syn", State::Open, "syn-ack")},
                                               false);
    EXPECT_THAT(xml, HasSubstr(R"(args="scanfw --plugin syn &quot;&lt;a&amp;b&gt;&quot; &apos;q&apos; ? ?")"));
    // The comment repeats the command line without "--", which XML comments cannot hold.
    const auto comment = lines_of(xml)[3];
    EXPECT_THAT(comment, StartsWith("<!-- scanfw "));
    EXPECT_THAT(comment, HasSubstr("&#45;&#45;plugin syn"));
    EXPECT_EQ(comment.substr(4, comment.size() - 8).find("--"), std::string::npos) << comment;
}

TEST_F(OutputTest, XmlSummarisesExtraports) {
    std::vector<Result> results = many_closed();
    results.push_back(result("198.18.0.2", 8080, "syn", State::Filtered, "no-response"));
    results.push_back(result("198.18.0.2", 8081, "syn", State::Filtered, "admin-prohibited", 64));
    std::vector<std::uint16_t> ports = range(1, 40);
    ports.insert(ports.end(), {8080, 8081});
    const std::string xml = run_xml(scan_info({technique("syn", ports)}), results, false);
    EXPECT_THAT(xml, HasSubstr("<ports><extraports state=\"closed\" count=\"39\">\n"
                               R"(<extrareasons reason="reset" count="39" proto="tcp" ports="1-21,23-40"/>)"
                               "\n</extraports>\n<port protocol=\"tcp\" portid=\"22\">"));
    EXPECT_THAT(xml, HasSubstr(R"(<port protocol="tcp" portid="8080"><state state="filtered")"));
    EXPECT_THAT(xml, HasSubstr(R"(<port protocol="tcp" portid="8081"><state state="filtered")"));
    EXPECT_THAT(xml, Not(HasSubstr(R"(portid="21")")));
}

TEST_F(OutputTest, XmlIpv6Address) {
    const std::string xml =
        run_xml(scan_info({technique("syn", kTestnetTcp)}), testnet_syn("fd00:5eed::2"), false);
    EXPECT_THAT(xml, HasSubstr(R"(<address addr="fd00:5eed::2" addrtype="ipv6"/>)"));
}

TEST_F(OutputTest, XmlOneHostForTcpAndUdpTechniques) {
    std::vector<Result> results = testnet_syn();
    results.push_back(result("198.18.0.2", 53, "udp", State::Open, "udp-response", 64));
    results.push_back(result("198.18.0.2", 161, "udp", State::OpenFiltered, "no-response"));
    const std::string xml = run_xml(
        scan_info({technique("syn", kTestnetTcp), technique("udp", {53, 161})}), results, false);
    EXPECT_THAT(xml, HasSubstr(R"(<scaninfo type="udp" protocol="udp" numservices="2" services="53,161"/>)"));
    std::size_t hosts = 0;
    for (const auto& l : lines_of(xml)) hosts += l.rfind("<host ", 0) == 0;
    EXPECT_EQ(hosts, 1u);
    // TCP before UDP, as nmap orders them.
    EXPECT_LT(xml.find(R"(portid="8082")"), xml.find(R"(portid="53")"));
    EXPECT_THAT(xml, Not(HasSubstr("comment=")));
}

TEST_F(OutputTest, XmlOneHostPerTechniqueWhenTheyShareAProtocol) {
    std::vector<Result> results = testnet_syn();
    for (std::uint16_t p : kTestnetTcp)
        results.push_back(result("198.18.0.2", p, "ack", State::Unfiltered, "reset"));
    const std::string xml = run_xml(
        scan_info({technique("syn", kTestnetTcp), technique("ack", kTestnetTcp)}), results, false);
    EXPECT_THAT(xml, HasSubstr(R"(comment="syn scan"><status state="up")"));
    EXPECT_THAT(xml, HasSubstr(R"(comment="ack scan"><status state="up")"));
    EXPECT_THAT(xml, HasSubstr(R"(<port protocol="tcp" portid="22"><state state="unfiltered" reason="reset")"));
    EXPECT_THAT(xml, HasSubstr(R"(<hosts up="1" down="0" total="1"/>)"));
}

TEST_F(OutputTest, XmlHostsInAddressOrderWhateverTheirResultsOrder) {
    std::vector<Result> results;
    const auto a = testnet_syn("198.18.0.10"), b = testnet_syn("198.18.0.2"), c = testnet_syn("fd00:5eed::2");
    for (std::size_t i = 0; i < a.size(); ++i) results.insert(results.end(), {c[i], a[i], b[i]});
    const std::string xml = run_xml(scan_info({technique("syn", kTestnetTcp)}, 3), results);
    const auto p2 = xml.find(R"(addr="198.18.0.2")"), p10 = xml.find(R"(addr="198.18.0.10")"),
               p6 = xml.find(R"(addr="fd00:5eed::2")");
    ASSERT_NE(p2, std::string::npos);
    EXPECT_LT(p2, p10);  // by number, not as text
    EXPECT_LT(p10, p6);  // IPv4 before IPv6
    EXPECT_THAT(xml, HasSubstr(R"(<hosts up="3" down="0" total="3"/>)"));
}

TEST_F(OutputTest, XmlAfterAnInterruptIsClosed) {
    const auto results = testnet_syn();
    const std::string xml = run(make_xml(path("out"), {}), path("out"), scan_info({technique("syn", kTestnetTcp)}, 4),
                                {results[0], results[1]}, true);
    EXPECT_THAT(xml, HasSubstr(R"(portid="8081")"));  // what the host had is written
    EXPECT_THAT(xml, HasSubstr(R"(portid="22")"));
    EXPECT_THAT(xml, HasSubstr(R"(exit="error" errormsg="interrupted: )"));
    EXPECT_THAT(xml, HasSubstr("summary=\"scanfw interrupted at "));
    EXPECT_THAT(xml, EndsWith("</runstats>\n</nmaprun>\n"));
    expect_valid_xml(path("out"));
}

// Issue 25: hosts not yet concluded when the scan stopped are neither up nor down. As
// nmap's runstats, <hosts> counts the hosts concluded (total = up + down), and every
// format says the same as the record's summary.
TEST_F(OutputTest, AnInterruptedScanCountsOnlyTheHostsItConcluded) {
    const ScanInfo info = scan_info({technique("syn", kTestnetTcp)}, 8);
    HostStatus up, down;
    up.host = *IpAddress::parse("198.18.0.2");
    up.reason = "arp-response";
    down.host = *IpAddress::parse("198.18.0.3");
    down.up = false;
    down.reason = "no-response";
    const std::vector<Result> results{testnet_syn()[1]};
    const std::string xml = run(make_xml(path("out"), {}), path("out"), info, results, true, {up, down});
    EXPECT_THAT(xml, HasSubstr(R"(<hosts up="1" down="1" total="2"/>)"));
    EXPECT_THAT(xml, HasSubstr("; 2 of 8 IP addresses (1 host up) scanned in "));
    expect_valid_xml(path("out"));
    const auto json = lines_of(run(make_json_lines(path("out"), {}), path("out"), info, results, true, {up, down}));
    EXPECT_THAT(json.back(), HasSubstr(R"("hosts":8,"up":1,"down":1,)"));
    const auto normal = run(make_normal(path("out"), {}), path("out"), info, results, true, {up, down});
    EXPECT_THAT(normal, HasSubstr(" -- 2 of 8 IP addresses (1 host up) scanned in "));
    const auto grepable = run(make_grepable(path("out"), {}), path("out"), info, results, true, {up, down});
    EXPECT_THAT(grepable, HasSubstr(" -- 2 of 8 IP addresses (1 host up) scanned in "));
}

// A reverse DNS name comes after its host, as an update (ReverseNames): every format
// names the host as nmap does, a given name first with its "rDNS record" line, and
// the record reads it back; the update counts no second host.
TEST_F(OutputTest, AReverseNameArrivesAsAnUpdateOfItsHost) {
    const ScanInfo info = scan_info({technique("syn", kTestnetTcp)});
    HostStatus given, update;
    given.host = update.host = *IpAddress::parse("198.18.0.2");
    given.reason = update.reason = "arp-response";
    given.hostname = "box.example";
    update.ptr_name = "web.example";
    update.update = true;
    const std::vector<Result> results{testnet_syn()[1]};
    const std::string xml = run(make_xml(path("out"), {}), path("out"), info, results, false, {given, update});
    EXPECT_THAT(xml, HasSubstr("<hostname name=\"box.example\" type=\"user\"/>\n<hostname name=\"web.example\" type=\"PTR\"/>"));
    EXPECT_THAT(xml, HasSubstr(R"(<hosts up="1" down="0" total="1"/>)"));
    const auto normal = run(make_normal(path("out"), {}), path("out"), info, results, false, {given, update});
    EXPECT_THAT(normal, HasSubstr("scan report for box.example (198.18.0.2)\n"));
    EXPECT_THAT(normal, HasSubstr("latency).\nrDNS record for 198.18.0.2: web.example\n\nPORT"));
    const auto grepable = run(make_grepable(path("out"), {}), path("out"), info, results, false, {given, update});
    EXPECT_THAT(grepable, HasSubstr("Host: 198.18.0.2 (web.example)\tStatus: Up"));
    given.hostname.clear();
    const auto named = run(make_normal(path("out"), {}), path("out"), info, results, false, {given, update});
    EXPECT_THAT(named, HasSubstr("scan report for web.example (198.18.0.2)\n"));
    EXPECT_THAT(named, Not(HasSubstr("rDNS record")));
    run(make_json_lines(path("out"), {}), path("out"), info, results, false, {given, update});
    std::vector<HostStatus> hosts;
    RecordReader::Callbacks cb;
    cb.host = [&](const HostStatus& h) { hosts.push_back(h); };
    cb.result = [](const Result&) {};
    RecordReader::read(path("out"), cb);
    ASSERT_EQ(hosts.size(), 2u);
    EXPECT_FALSE(hosts[0].update);
    EXPECT_TRUE(hosts[1].update);
    EXPECT_EQ(hosts[1].ptr_name, "web.example");
}

TEST_F(OutputTest, XmlOpenOnly) {
    std::vector<Result> results = testnet_syn();
    const auto closed_host = testnet_syn("198.18.0.3");
    for (const auto& r : closed_host)
        if (r.state != State::Open) results.push_back(r);
    results.push_back(result("198.18.0.3", 22, "syn", State::Closed, "reset", 64));
    results.push_back(result("198.18.0.3", 80, "syn", State::Closed, "reset", 64));
    const std::string xml = run_xml(scan_info({technique("syn", kTestnetTcp)}, 2), results, true);
    // Closed and filtered go to extraports, however few; a host without open ports is left out.
    EXPECT_THAT(xml, HasSubstr("<ports><extraports state=\"closed\" count=\"2\">\n"
                               R"(<extrareasons reason="reset" count="2" proto="tcp" ports="113,8082"/>)"
                               "\n</extraports>\n<extraports state=\"filtered\" count=\"2\">\n"));
    EXPECT_THAT(xml, HasSubstr(R"(<port protocol="tcp" portid="22">)"));
    EXPECT_THAT(xml, Not(HasSubstr(R"(portid="113")")));
    EXPECT_THAT(xml, Not(HasSubstr("198.18.0.3\"")));
    EXPECT_THAT(xml, HasSubstr(R"(<hosts up="2" down="0" total="2"/>)"));
}

TEST_F(OutputTest, XmlTechniqueUnknownToNmap) {
    ScanInfo info =
        scan_info({technique("maimon", {22}), {"custom", Protocol::Tcp, {22}}, {"a--b", Protocol::Udp, {53}}});
    const std::string xml = run(make_xml(path("out"), {}), path("out"), info, {});
    EXPECT_THAT(xml, HasSubstr(R"(<scaninfo type="maimon" protocol="tcp")"));
    EXPECT_THAT(xml, HasSubstr("<!-- technique custom: not a scan type nmap.dtd knows, so no scaninfo -->"));
    EXPECT_THAT(xml, Not(HasSubstr(R"(type="custom")")));
    EXPECT_THAT(xml, HasSubstr("<!-- technique a&#45;&#45;b: not a scan type"));
    expect_valid_xml(path("out"));
}

// ---- grepable ---------------------------------------------------------------------

TEST_F(OutputTest, GrepableLines) {
    const auto lines =
        lines_of(run_grepable(scan_info({technique("syn", kTestnetTcp)}), testnet_syn(), false));
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_THAT(lines[0], StartsWith("# scanfw " SCANFW_VERSION " scan initiated "));
    EXPECT_THAT(lines[0], EndsWith(" as: scanfw --plugin syn -p 22,80 198.18.0.2"));
    EXPECT_EQ(lines[1], "Host: 198.18.0.2 ()\tStatus: Up");
    EXPECT_EQ(lines[2],
              "Host: 198.18.0.2 ()\tPorts: 22/open/tcp//ssh///, 80/open/tcp//http///, 113/closed/tcp//auth///, "
              "8080/filtered/tcp//http-alt///, 8081/filtered/tcp//tproxy///, 8082/closed/tcp/////");
    EXPECT_THAT(lines[3], StartsWith("# scanfw done at "));
    EXPECT_THAT(lines[3], EndsWith(" -- 1 IP address (1 host up) scanned in 1.25 seconds"));
}

TEST_F(OutputTest, GrepableIgnoredState) {
    const auto lines = lines_of(run_grepable(scan_info({technique("syn", range(1, 40))}), many_closed(), false));
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[2], "Host: 198.18.0.2 ()\tPorts: 22/open/tcp//ssh///\tIgnored State: closed (39)");
}

TEST_F(OutputTest, GrepableHasRoomForOneIgnoredStateOnly) {
    const auto lines =
        lines_of(run_grepable(scan_info({technique("syn", kTestnetTcp)}), testnet_syn(), true));
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[2], "Host: 198.18.0.2 ()\tPorts: 22/open/tcp//ssh///, 80/open/tcp//http///");
}

TEST_F(OutputTest, GrepableNamesTheTechniqueWhenTheyShareAProtocol) {
    std::vector<Result> results = testnet_syn();
    for (std::uint16_t p : kTestnetTcp) results.push_back(result("198.18.0.2", p, "fin", State::Closed, "reset"));
    const auto lines = lines_of(run_grepable(
        scan_info({technique("syn", kTestnetTcp), technique("fin", kTestnetTcp)}), results, false));
    ASSERT_EQ(lines.size(), 5u);  // the host's status once, then a Ports line per technique
    EXPECT_THAT(lines[2], EndsWith("8082/closed/tcp/////\tTechnique: syn"));
    EXPECT_EQ(lines[3], "Host: 198.18.0.2 ()\tPorts: 22/closed/tcp//ssh///, 80/closed/tcp//http///, "
                        "113/closed/tcp//auth///, 8080/closed/tcp//http-alt///, 8081/closed/tcp//tproxy///, "
                        "8082/closed/tcp/////\tTechnique: fin");
}

// ---- normal -----------------------------------------------------------------------

TEST_F(OutputTest, NormalWithReasons) {
    const std::string text = run_normal(scan_info({technique("syn", kTestnetTcp)}), testnet_syn(),
                                         DisplayOptions{.show_reason = true});
    const auto lines = lines_of(text);
    ASSERT_EQ(lines.size(), 13u) << text;
    EXPECT_THAT(lines[0], StartsWith("# scanfw " SCANFW_VERSION " scan initiated "));
    EXPECT_EQ(lines[1], "scanfw scan report for 198.18.0.2");
    EXPECT_EQ(lines[2], "Host is up, received user-set (0.00010s latency).");  // mean of 120, 80, 100, 100 us
    EXPECT_EQ(lines[3], "");
    EXPECT_EQ(lines[4], "PORT     STATE    SERVICE  REASON");
    EXPECT_EQ(lines[5], "22/tcp   open     ssh      syn-ack ttl 64");
    EXPECT_EQ(lines[8], "8080/tcp filtered http-alt no-response");
    EXPECT_EQ(lines[9], "8081/tcp filtered tproxy   admin-prohibited ttl 64");
    EXPECT_EQ(lines[10], "8082/tcp closed   unknown  reset ttl 64");
    EXPECT_EQ(lines[11], "");
    EXPECT_THAT(lines[12], EndsWith(" -- 1 IP address (1 host up) scanned in 1.25 seconds"));
}

TEST_F(OutputTest, NormalNotShown) {
    const auto lines = lines_of(run_normal(scan_info({technique("syn", range(1, 40))}), many_closed()));
    ASSERT_GE(lines.size(), 6u);
    EXPECT_EQ(lines[2], "Host is up.");
    EXPECT_EQ(lines[3], "Not shown: 39 closed tcp ports (reset)");
    EXPECT_EQ(lines[4], "PORT   STATE SERVICE");
    EXPECT_EQ(lines[5], "22/tcp open  ssh");
}

TEST_F(OutputTest, NormalAllPortsIgnored) {
    std::vector<Result> results;
    for (std::uint16_t p = 1; p <= 30; ++p)
        results.push_back(result("198.18.0.2", p, "ack", State::Unfiltered, "reset"));
    const std::string text =
        run_normal(scan_info({technique("ack", range(1, 30))}), results);
    EXPECT_THAT(text, HasSubstr("Host is up.\nAll 30 scanned ports on 198.18.0.2 are in ignored states.\n"
                                "Not shown: 30 unfiltered tcp ports (reset)\n\n# scanfw done at "));
}

TEST_F(OutputTest, NormalAfterAnInterrupt) {
    const auto results = testnet_syn();
    const std::string text =
        run(make_normal(path("out"), {}), path("out"), scan_info({technique("syn", kTestnetTcp)}), {results[1]}, true);
    EXPECT_THAT(text, HasSubstr("22/tcp open  ssh\n"));
    EXPECT_THAT(text, HasSubstr("\n# scanfw interrupted at "));
}

// ---- JSON Lines -------------------------------------------------------------------

TEST_F(OutputTest, JsonLinesIsARecordOfTheScan) {
    const auto lines = lines_of(run_json(scan_info({technique("syn", kTestnetTcp)}), testnet_syn()));
    ASSERT_EQ(lines.size(), 9u);  // what the scan is, the host, 6 results, the summary
    EXPECT_THAT(lines[0], StartsWith(R"({"type":"scan","scanner":"scanfw","version":")" SCANFW_VERSION
                                     R"(","argv":["scanfw","--plugin","syn","-p","22,80","198.18.0.2"],)"));
    EXPECT_THAT(lines[0], HasSubstr(R"("techniques":[{"name":"syn","protocol":"tcp","ports":"22,80,113,8080-8082"}])"));
    EXPECT_EQ(lines[1], R"({"type":"host","host":"198.18.0.2","status":"up","reason":"user-set"})");
    EXPECT_EQ(lines[2], R"({"host":"198.18.0.2","port":8081,"protocol":"tcp","technique":"syn","state":"filtered",)"
                        R"("reason":"admin-prohibited","ttl":64})");
    EXPECT_EQ(lines[3], R"({"host":"198.18.0.2","port":22,"protocol":"tcp","technique":"syn","state":"open",)"
                        R"("reason":"syn-ack","ttl":64,"rtt_us":120})");
    const std::string& summary = lines.back();
    EXPECT_THAT(summary, StartsWith(R"({"type":"summary","scanner":"scanfw","version":")" SCANFW_VERSION
                                    R"(","args":"scanfw --plugin syn -p 22,80 198.18.0.2","start":")"));
    EXPECT_THAT(summary, HasSubstr(R"("elapsed":1.25,"hosts":1,"up":1,"down":0,"techniques":["syn"],"results":6,)"
                                   R"("states":{"open":2,"closed":2,"filtered":2},"icmp_limited":[],"done":1.0000,)"
                                   R"("interrupted":false})"));
}

TEST_F(OutputTest, TheRecordReadsBackAsItWasWritten) {
    std::vector<Result> results = testnet_syn();
    results[1].service = std::make_shared<const ServiceInfo>(ServiceInfo{"ssh", "OpenSSH", "9.2p1", "protocol 2.0", "", "Linux", "", {"cpe:/a:openbsd:openssh:9.2p1"}, "", "probed", 10});
    ScanInfo info = scan_info({technique("syn", kTestnetTcp)});
    info.seed = 42;
    info.shard = 2;
    info.shards = 4;
    info.targets_digest = "abc";
    HostStatus h;
    h.host = *IpAddress::parse("198.18.0.2");
    h.reason = "arp-response";
    h.mac = MacAddress{0x9e, 6, 0xc8, 0xd8, 0x49, 0x31};
    h.hostname = "web.example";
    run(make_json_lines(path("out"), {}), path("out"), info, results, false, {h});
    std::vector<Result> back;
    std::vector<HostStatus> hosts;
    std::optional<RecordHeader> header;
    RecordReader::Callbacks cb;
    cb.header = [&](const RecordHeader& r) { header = r; };
    cb.host = [&](const HostStatus& s) { hosts.push_back(s); };
    cb.result = [&](const Result& r) { back.push_back(r); };
    RecordReader::read(path("out"), cb);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->info.argv, info.argv);
    EXPECT_EQ(header->info.seed, 42u);
    EXPECT_EQ(header->info.shard, 2u);
    EXPECT_EQ(header->info.shards, 4u);
    EXPECT_EQ(header->info.techniques[0].ports, kTestnetTcp);
    ASSERT_EQ(hosts.size(), 1u);
    EXPECT_EQ(hosts[0].reason, "arp-response");
    EXPECT_EQ(mac_text(*hosts[0].mac), "9E:06:C8:D8:49:31");
    EXPECT_EQ(hosts[0].hostname, "web.example");
    ASSERT_EQ(back.size(), results.size());
    for (std::size_t i = 0; i < back.size(); ++i) {
        EXPECT_EQ(back[i].port, results[i].port);
        EXPECT_EQ(back[i].state, results[i].state);
        EXPECT_EQ(back[i].reason, results[i].reason);
        EXPECT_EQ(back[i].ttl, results[i].ttl);
    }
    ASSERT_TRUE(back[1].service);
    EXPECT_EQ(back[1].service->product, "OpenSSH");
    EXPECT_EQ(back[1].service->cpe, results[1].service->cpe);
    ASSERT_TRUE(RecordReader::summary(path("out")));
    EXPECT_FALSE(RecordReader::summary(path("out"))->interrupted);
}

TEST_F(OutputTest, RecordErrorsNameFileAndLine) {
    std::ofstream(path("bad")) << header_json(scan_info({technique("syn", {22})})) << "\n{\"host\":\"x\"}\n{}\n";
    try {
        RecordReader::read(path("bad"), {});
        FAIL();
    } catch (const InputError& e) {
        EXPECT_THAT(e.what(), HasSubstr(path("bad") + ":2: "));
    }
    std::ofstream(path("notrecord")) << "{\"port\":1}\n";
    EXPECT_THROW(RecordReader::header(path("notrecord")), InputError);
}

TEST_F(OutputTest, JsonSummaryAfterAnInterrupt) {
    ScanInfo info = scan_info({technique("syn", kTestnetTcp), technique("udp", {53})});
    info.argv = {"scanfw", "\"quoted\"", "\\", "\x01"};
    const auto lines = lines_of(run(make_json_lines(path("out"), {}), path("out"), info, {testnet_syn()[1]}, true));
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_THAT(lines[3], HasSubstr(R"("args":"scanfw \"quoted\" \\ \u0001")"));
    EXPECT_THAT(lines[3], HasSubstr(R"("techniques":["syn","udp"],"results":1,"states":{"open":1})"));
    EXPECT_THAT(lines[3], HasSubstr(R"("interrupted":true})"));
}

// Issue 25: an interrupted UDP scan of 300 ports that has 9 results is 3 % done, not
// done; a host found down counts as concluded, with every port it would have had.
TEST_F(OutputTest, AnInterruptedScanIsDoneByTheShareOfItsItemsConcluded) {
    std::vector<Result> results;
    for (std::uint16_t p = 1; p <= 9; ++p) results.push_back(result("198.18.0.2", p, "udp", State::Closed, "port-unreach"));
    const auto one = lines_of(run(make_json_lines(path("out"), {}), path("out"),
                                  scan_info({technique("udp", range(1, 300))}), results, true));
    EXPECT_THAT(one.back(), HasSubstr(R"("results":9,)"));
    EXPECT_THAT(one.back(), HasSubstr(R"("done":0.0300,"interrupted":true)"));
    HostStatus up, down;
    up.host = *IpAddress::parse("198.18.0.2");
    down.host = *IpAddress::parse("198.18.0.3");
    down.up = false;
    const auto two = lines_of(run(make_json_lines(path("out"), {}), path("out"),
                                  scan_info({technique("udp", range(1, 300))}, 4), results, true, {up, down}));
    EXPECT_THAT(two.back(), HasSubstr(R"("done":0.2575,"interrupted":true)"));  // (300 + 9) / 1200
}

// ---- --resume ------------------------------------------------------------------------

// What a resume writes, compared line by line with the record of the same scan run
// without a stop: the scan's line, each host once, each result once.
class ResumeTest : public OutputTest {
protected:
    const ScanInfo info_ = scan_info({technique("syn", kTestnetTcp)});
    const std::vector<Result> results_ = testnet_syn();
    HostStatus host_ = [] {
        HostStatus h;
        h.host = *IpAddress::parse("198.18.0.2");
        h.reason = "arp-response";
        return h;
    }();

    // The record of the whole scan, not interrupted.
    std::vector<std::string> reference() {
        return lines_of(run(make_json_lines(path("ref"), {}), path("ref"), info_, results_, false, {host_}));
    }
    // An interrupted record of the first `n` results.
    void interrupted(const std::string& file, std::size_t n) {
        run(make_json_lines(path(file), {}), path(file), info_, {results_.begin(), results_.begin() + n}, true,
            {host_});
    }
    // A resume of `record`, which holds the first `had` results, into `outputs`: the
    // record replayed, then the host found up again by discovery, and the results the
    // record lacks.
    void resume(const std::string& record, std::size_t had, Outputs& outputs) {
        outputs.begin(info_);
        outputs.replaying(true);
        RecordReader::Callbacks cb;
        cb.host = [&](const HostStatus& h) { outputs.on_host(h); };
        cb.result = [&](const Result& r) { outputs.on_result(r); };
        RecordReader::read(record, cb);
        outputs.replaying(false);
        outputs.on_host(host_);
        for (std::size_t i = had; i < results_.size(); ++i) outputs.on_result(results_[i]);
        ScanSummary s;
        s.hosts = 1;
        s.results = outputs.results();
        s.seconds = 1.25;
        outputs.end(s);
    }
    static void expect_same_record(const std::vector<std::string>& got, const std::vector<std::string>& want) {
        ASSERT_EQ(got.size(), want.size());
        for (std::size_t i = 0; i + 1 < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "line " << i + 1;
        EXPECT_THAT(got.back(), HasSubstr(R"("results":6,"states":{"open":2,"closed":2,"filtered":2},)"));
        EXPECT_THAT(got.back(), HasSubstr(R"("done":1.0000,"interrupted":false})"));
    }
};

TEST_F(ResumeTest, IntoANewRecordItHoldsTheOldResultsAndEachHostOnce) {
    interrupted("saved", 2);
    const std::string saved = read(path("saved"));
    Outputs outputs;
    outputs.add(make_json_lines(path("new"), DisplayOptions{.append_json = path("saved")}));
    resume(path("saved"), 2, outputs);
    expect_same_record(lines_of(read(path("new"))), reference());
    EXPECT_EQ(read(path("saved")), saved);  // the record resumed from is left as it was
}

TEST_F(ResumeTest, InPlaceItWritesEachHostOnce) {
    interrupted("r.jsonl", 3);
    Outputs outputs;
    outputs.add(make_json_lines(path("r.jsonl"), DisplayOptions{.append_json = path("r.jsonl")}));
    resume(path("r.jsonl"), 3, outputs);
    expect_same_record(lines_of(read(path("r.jsonl"))), reference());
}

TEST_F(ResumeTest, InPlaceWhateverTheRecordIsCalled) {
    interrupted("r.jsonl", 3);
    Outputs outputs;
    // The record named otherwise than the output (dir/./r.jsonl): the same file, which
    // is continued, not emptied.
    const std::string other_name = (dir_ / "." / "r.jsonl").string();
    outputs.add(make_json_lines(path("r.jsonl"), DisplayOptions{.append_json = other_name}));
    resume(other_name, 3, outputs);
    expect_same_record(lines_of(read(path("r.jsonl"))), reference());
}

TEST_F(ResumeTest, NeverReplacesAFinishedScan) {
    interrupted("r.jsonl", 3);
    for (const char* name : {"done.xml", "done.nmap", "done.gnmap", "stopped.xml", "stopped.nmap", "stopped.gnmap"}) {
        const std::string file = path(name);
        const bool stop = std::string_view(name).starts_with("stopped");
        auto out = file.ends_with(".xml") ? make_xml(file, {}) : file.ends_with(".nmap") ? make_normal(file, {}) : make_grepable(file, {});
        run(std::move(out), file, info_, results_, stop, {host_});
    }
    run(make_json_lines(path("done.jsonl"), {}), path("done.jsonl"), info_, results_, false, {host_});
    auto refused = [&](const OutputFiles& files, const std::string& record) {
        try {
            check_resume_outputs(files, record);
        } catch (const InputError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    auto base = [&](const std::string& name) {
        OutputFiles f;
        f.all = path(name);
        return f;
    };
    // Interrupted outputs, new files and the interrupted record itself: written.
    OutputFiles stopped;
    stopped.xml = path("stopped.xml");
    stopped.grepable = path("stopped.gnmap");
    stopped.normal = path("stopped.nmap");
    stopped.json = path("r.jsonl");
    EXPECT_EQ(refused(stopped, path("r.jsonl")), "");
    EXPECT_EQ(refused(base("new"), path("r.jsonl")), "");
    EXPECT_EQ(refused(base("new"), path("done.jsonl")), "");  // a finished record into new files
    // A finished scan's files: refused, naming the file and what to do.
    OutputFiles json = base("new");
    json.json = path("done.jsonl");
    EXPECT_THAT(refused(json, path("r.jsonl")),
                HasSubstr("-oJ " + path("done.jsonl") + " holds a finished scan, which a resume never replaces"));
    for (auto field : {&OutputFiles::xml, &OutputFiles::grepable, &OutputFiles::normal}) {
        OutputFiles files = stopped;
        const std::string name = field == &OutputFiles::xml ? "done.xml" : field == &OutputFiles::grepable ? "done.gnmap" : "done.nmap";
        files.*field = path(name);
        EXPECT_THAT(refused(files, path("r.jsonl")), HasSubstr(path(name) + " holds a finished scan")) << name;
    }
    OutputFiles itself;
    itself.json = (dir_ / "." / "done.jsonl").string();
    EXPECT_THAT(refused(itself, path("done.jsonl")),
                HasSubstr("the scan is finished (its summary says so), so there is nothing to resume"));
    // The record as another format would be emptied before it is read.
    OutputFiles normal;
    normal.normal = path("r.jsonl");
    EXPECT_THAT(refused(normal, path("r.jsonl")), HasSubstr("would write over the record it resumes"));
}

TEST_F(OutputTest, JsonOpenOnly) {
    const auto lines = lines_of(run_json(scan_info({technique("syn", kTestnetTcp)}), testnet_syn(), true));
    ASSERT_EQ(lines.size(), 5u);  // scan, host, 22, 80, summary
    EXPECT_THAT(lines[2], HasSubstr(R"("port":22,)"));
    EXPECT_THAT(lines[3], HasSubstr(R"("port":80,)"));
    EXPECT_THAT(lines[4], HasSubstr(R"("results":6,"states":{"open":2,"closed":2,"filtered":2})"));
}

// ---- the table ----------------------------------------------------------------------

TEST_F(OutputTest, TableOpenOnly) {
    std::FILE* f = std::fopen(path("table").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::vector<Result> results = testnet_syn();
    for (std::uint16_t p : kTestnetTcp) results.push_back(result("198.18.0.3", p, "syn", State::Closed, "reset"));
    run(make_table(f, DisplayOptions{.open_only = true}), path("none"), scan_info({technique("syn", kTestnetTcp)}, 2),
        results);
    std::fclose(f);
    const std::string text = read(path("table"));
    EXPECT_THAT(text, HasSubstr("scanfw scan report for 198.18.0.2\nHost is up (0.00010s latency).\n"));
    EXPECT_THAT(text, HasSubstr("22/tcp open  ssh     syn-ack\n80/tcp open  http    syn-ack\n"));
    EXPECT_THAT(text, HasSubstr("scanfw done: 2 IP addresses (2 hosts up) scanned with 1 technique, 12 results in "));
    EXPECT_THAT(text, Not(HasSubstr("113/tcp")));
    EXPECT_THAT(text, Not(HasSubstr("198.18.0.3")));
}

// ---- choosing outputs ---------------------------------------------------------------

TEST_F(OutputTest, AllFormatsFromOneBaseName) {
    OutputFiles files;
    files.all = path("scan");
    files.xml = path("other.xml");  // given on its own: takes precedence over -oA's
    Outputs outputs = make_outputs(files, DisplayOptions{});
    EXPECT_EQ(outputs.size(), 5u);  // four files and the table
    for (const char* name : {"scan.gnmap", "scan.nmap", "scan.jsonl", "other.xml"})
        EXPECT_TRUE(fs::exists(path(name))) << name;
    EXPECT_FALSE(fs::exists(path("scan.xml")));
}

TEST_F(OutputTest, StdoutTakesOneOutputAndNoTable) {
    OutputFiles files;
    files.xml = "-";
    EXPECT_EQ(make_outputs(files, DisplayOptions{}).size(), 1u);
    files.grepable = "-";
    EXPECT_THROW(make_outputs(files, DisplayOptions{}), InputError);
    OutputFiles all;
    all.all = "-";
    EXPECT_THROW(make_outputs(all, DisplayOptions{}), InputError);
    OutputFiles none;
    EXPECT_EQ(make_outputs(none, DisplayOptions{}).size(), 1u);  // the table
}

TEST_F(OutputTest, AScanStoppedByAnErrorStillClosesItsFiles) {
    {
        OutputFiles files;
        files.all = path("scan");
        files.normal = "-";  // not the table, nothing on the test's stdout but this
        Outputs outputs = make_outputs(files, DisplayOptions{});
        outputs.begin(scan_info({technique("syn", kTestnetTcp)}));
        HostStatus h;
        h.host = testnet_syn()[1].host;
        outputs.on_host(h);
        outputs.on_result(testnet_syn()[1]);
        // ... an exception unwinds the scan here: no end().
    }
    const std::string xml = read(path("scan.xml"));
    EXPECT_THAT(xml, HasSubstr(R"(portid="22")"));
    EXPECT_THAT(xml, HasSubstr(R"(exit="error")"));
    EXPECT_THAT(xml, EndsWith("</nmaprun>\n"));
    EXPECT_THAT(lines_of(read(path("scan.jsonl"))).back(),
                HasSubstr(R"("interrupted":true})"));
}

TEST_F(OutputTest, TwoOutputsToOneFileAreRefused) {
    OutputFiles files;
    files.normal = path("x");
    files.json = path("x");
    try {
        make_outputs(files, DisplayOptions{});
        FAIL();
    } catch (const InputError& e) {
        EXPECT_THAT(e.what(), HasSubstr("-oN and -oJ would both write"));
    }
}

TEST_F(OutputTest, TheSpoolGivesEachHostOnceInAddressOrderWhateverItSpills) {
    // A tiny budget: nearly every record spills to a run of its own.
    Spool spool(64);
    std::vector<IpAddress> hosts;
    for (std::uint32_t i = 0; i < 300; ++i) hosts.push_back(IpAddress::v4(0xc6120000u + (i * 7919u) % 300u));
    for (int round = 0; round < 3; ++round)
        for (const auto& h : hosts) {
            Result r;
            r.host = h;
            r.port = static_cast<std::uint16_t>(round + 1);
            r.technique = "syn";
            r.reason = "reset";
            r.state = State::Closed;
            spool.add(r);
        }
    EXPECT_GT(spool.runs(), 100u);
    // Merged 16 at a time as they pile up: a few files open, not one per run.
    EXPECT_LE(spool.open_runs(), 3 * 15u);
    std::vector<IpAddress> seen;
    spool.for_each_host([&](const HostView& v) {
        seen.push_back(v.host);
        ASSERT_EQ(v.results.size(), 3u);
        EXPECT_EQ(v.results[0].port, 1);  // in the order they came
        EXPECT_EQ(v.results[2].port, 3);
    });
    ASSERT_EQ(seen.size(), 300u);
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST_F(OutputTest, UnwritableFileIsAnInputError) {
    OutputFiles files;
    files.normal = path("no/such/dir/out.nmap");
    EXPECT_THROW(make_outputs(files, DisplayOptions{}), InputError);
}

}  // namespace
