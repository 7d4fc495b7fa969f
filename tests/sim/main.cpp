// scanfw-sim: whole scans on the simulated network, each drawn from a seed and checked
// against the truth (tests/sim/check.hpp). A failing seed prints one line that
// reproduces it; seeds that once failed are kept in tests/sim/regressions.txt.
//
//   scanfw-sim --seeds 1-10000          every seed of the range
//   scanfw-sim --seed 4711 -v           one seed, with its scenario and figures
//   SCANFW_SIM_TRACE=1 scanfw-sim --seed 4711 -vv   and every packet and decision
//   scanfw-sim --regressions FILE       the seeds a file lists (one a line, '#' comments)
//
// Exit: 0 every scenario right, 1 a wrong result (or a scan that failed), 2 bad usage.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sim/check.hpp"

namespace {

using namespace scanfw;

int usage() {
    std::fprintf(stderr, "usage: scanfw-sim (--seeds A-B | --seed N | --regressions FILE) [-v|-vv] [--plugin-dir DIR]\n");
    return 2;
}

std::vector<std::uint64_t> read_seeds(const std::string& file) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot read " + file);
    std::vector<std::uint64_t> seeds;
    std::string line;
    while (std::getline(in, line)) {
        line = line.substr(0, line.find('#'));
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        seeds.push_back(std::stoull(line));
    }
    return seeds;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::uint64_t> seeds;
    bool verbose = false, trace = false;
    std::string plugin_dir = SCANFW_SIM_PLUGIN_DIR;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            const auto value = [&]() -> std::string {
                if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
                return argv[++i];
            };
            if (a == "--seeds") {
                const std::string r = value();
                const auto dash = r.find('-');
                if (dash == std::string::npos) throw std::invalid_argument("--seeds A-B");
                for (std::uint64_t s = std::stoull(r.substr(0, dash)); s <= std::stoull(r.substr(dash + 1)); ++s)
                    seeds.push_back(s);
            } else if (a == "--seed") {
                seeds.push_back(std::stoull(value()));
            } else if (a == "--regressions") {
                const auto more = read_seeds(value());
                seeds.insert(seeds.end(), more.begin(), more.end());
            } else if (a == "-v") {
                verbose = true;
            } else if (a == "-vv") {
                verbose = trace = true;
            } else if (a == "--plugin-dir") {
                plugin_dir = value();
            } else {
                return usage();
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "scanfw-sim: %s\n", e.what());
        return usage();
    }
    if (seeds.empty()) return usage();
    // -vv: the engine's trace too (in a build with SPDLOG_ACTIVE_LEVEL=0), and the
    // network's with SCANFW_SIM_TRACE set.
    spdlog::set_level(trace ? spdlog::level::trace : verbose ? spdlog::level::info : spdlog::level::off);

    PluginRegistry registry({plugin_dir});
    const auto started = std::chrono::steady_clock::now();
    std::uint64_t failed = 0, results = 0, hosts = 0, lost = 0, loss_unshown = 0, late = 0, unseen_limit = 0, probes = 0;
    double simulated = 0, lost_expected = 0;
    for (const std::uint64_t seed : seeds) {
        const sim::Scenario sc = sim::draw_scenario(seed);
        if (verbose) fmt::print("{}\n", sc.describe());
        const sim::Checked c = sim::run_and_check(sc, registry);
        results += c.results;
        hosts += c.hosts;
        lost += c.lost;
        late += c.late;
        unseen_limit += c.unseen_limit;
        lost_expected += c.lost_expected;
        loss_unshown += c.loss_unshown;
        probes += c.probes;
        simulated += c.simulated;
        if (verbose)
            fmt::print("  {} results, {} hosts, {} excused by loss, {} by late answers; {} probes, {} events, "
                       "{:.1f} s simulated\n",
                       c.results, c.hosts, c.lost, c.late, c.probes, c.events, c.simulated);
        if (c.problems.empty()) continue;
        ++failed;
        fmt::print("FAIL {}\n  reproduce: scanfw-sim --seed {} -v\n", sc.describe(), seed);
        for (const auto& p : c.problems) fmt::print("  {}\n", p);
    }
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    fmt::print("{} scenario(s), {} failed: {} port results and {} host statuses checked, {} excused by loss "
               "(every try or answer lost; {:.2f} expected where retries were not capped; {} on hosts that showed no loss), {} by answers later than the template waits, {} by answers held back "
               "before the host showed a limit; {} probes, {:.0f} s simulated in {:.1f} s\n",
               seeds.size(), failed, results, hosts, lost, lost_expected, loss_unshown, late, unseen_limit, probes, simulated, took);
    return failed ? 1 : 0;
}
