// scanfw_limiter_model: the simulated kernels' ICMP limiters (tests/support/limiters.hpp)
// run through a measurement plan many times, to calibrate the model against a real
// kernel (tests/integration/icmp_calibration.sh).
//
//   scanfw_limiter_model --spec SPEC --plan PLAN.json [--runs M] [--alpha A] [--seed S]
//                        [--check MEASURED.json]
//
// PLAN is the plan netlab_icmp_bursts.py sends (see there): trials of bursts of UDP
// datagrams to closed ports. Each model run simulates the whole plan against one
// Limiter (a new one per run, seed S + run): trial i starts at i x period plus a
// uniform delay in [0, spread), burst 0 at once, burst k at + at_k plus a uniform delay
// in [0, slack_k) (the lateness the check accepts), datagrams `gap` seconds apart
// (plan "gap", default 10 us), a burst after the previous one when they would overlap
// (the sender sends them one after the other). Counted per burst: the unreachables
// the model lets through.
//
// Prints, per burst, the model's distribution of the count (over all trials of all
// runs), and the test: for the bursts marked "stat" in the plan, the sum of the counts
// over the trials and the sum of their squared deviations from the model's mean
// (rounded), each with a two-sided acceptance interval computed exactly from the model's
// distribution of one trial's count (the trials are independent: each starts from the
// same limiter state, which the plan's spacing is chosen for; the tool prints the
// correlation of consecutive trials to show it); the false-alarm rate --alpha is split
// in equal parts over those 4 tails per stat burst. Every other burst's count must be
// a value the model produced (for the plans used, one value with probability 1).
//
// --check MEASURED: the JSON of netlab_icmp_bursts.py. Trials whose bursts started
// later than at + slack or took longer than span are left out (their timing is outside
// what the model assumed; that depends on the sender, not on the limiter); at least
// plan "min_trials" (default 2/3 of them) must remain. Prints each check and a verdict;
// exit 0 when the measurement is inside every acceptance region, 1 when not, 2 on bad
// input.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/limiters.hpp"

using namespace scanfw;
using namespace scanfw::sim;
using nlohmann::json;

namespace {

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "scanfw_limiter_model: " << why
              << "\nusage: scanfw_limiter_model --spec SPEC --plan PLAN.json [--runs M] [--alpha A] [--seed S] "
                 "[--check MEASURED.json]\n";
    std::exit(2);
}

struct Burst {
    double at = 0, slack = 0, span = 1;
    int n = 0;
    std::string family;
    bool stat = false;
};

struct Plan {
    int trials = 30, min_trials = 20;
    double period = 1, spread = 0, gap = 1e-5;
    bool fresh = false;
    std::vector<Burst> bursts;
};

Plan read_plan(const json& j) {
    Plan p;
    p.trials = j.at("trials").get<int>();
    p.period = j.at("period").get<double>();
    p.spread = j.value("spread", 0.0);
    p.gap = j.value("gap", 1e-5);
    p.fresh = j.value("sources", std::string("one")) == "fresh";
    p.min_trials = j.value("min_trials", (2 * p.trials + 2) / 3);
    for (const auto& b : j.at("bursts")) {
        Burst x;
        x.at = b.value("at", 0.0);
        x.slack = b.value("slack", 0.0);
        x.span = b.value("span", 1.0);
        x.n = b.at("n").get<int>();
        x.family = b.at("family").get<std::string>();
        x.stat = b.value("stat", false);
        if (x.family != "4" && x.family != "6" && x.family != "46") throw std::runtime_error("family: 4, 6 or 46");
        p.bursts.push_back(x);
    }
    if (p.bursts.empty()) throw std::runtime_error("no bursts");
    return p;
}

// One run of the plan: counts[trial][burst].
std::vector<std::vector<int>> run_once(const LimiterSpec& spec, const Plan& plan, std::uint64_t seed) {
    const Clock::time_point start = Clock::time_point{} + std::chrono::hours(1000);
    Limiter lim(spec, seed, start);
    std::mt19937_64 timing(seed * 0x9e3779b97f4a7c15ull + 1);
    std::uniform_real_distribution<double> unit(0, 1);
    struct Scheduled {
        double t;
        int trial, burst;
    };
    std::vector<Scheduled> order;
    for (int i = 0; i < plan.trials; ++i) {
        const double first = 1.0 + i * plan.period + unit(timing) * plan.spread;
        for (std::size_t k = 0; k < plan.bursts.size(); ++k) {
            const Burst& b = plan.bursts[k];
            const double t = k == 0 ? first : first + b.at + unit(timing) * b.slack;
            order.push_back({t, i, static_cast<int>(k)});
        }
    }
    std::stable_sort(order.begin(), order.end(), [](const Scheduled& a, const Scheduled& b) { return a.t < b.t; });
    std::vector<std::vector<int>> counts(static_cast<std::size_t>(plan.trials), std::vector<int>(plan.bursts.size(), 0));
    const IpAddress one4 = *IpAddress::parse("198.18.0.1"), one6 = *IpAddress::parse("fd00:5eed::1");
    double busy_until = 0;
    for (const Scheduled& s : order) {
        const Burst& b = plan.bursts[static_cast<std::size_t>(s.burst)];
        IpAddress peer4 = one4, peer6 = one6;
        if (plan.fresh) {
            peer4 = IpAddress::v4(0xc613ff00u + static_cast<std::uint32_t>(s.trial) + 1);  // 198.19.255.x
            peer6 = one6;
            peer6.bytes[14] = static_cast<std::uint8_t>((s.trial + 1) >> 8);
            peer6.bytes[15] = static_cast<std::uint8_t>(s.trial + 1);
            peer6.bytes[13] = 0xff;
        }
        double t = std::max(s.t, busy_until);
        int& count = counts[static_cast<std::size_t>(s.trial)][static_cast<std::size_t>(s.burst)];
        for (int j = 0; j < b.n; ++j, t += plan.gap) {
            const bool v6 = b.family[static_cast<std::size_t>(j) % b.family.size()] == '6';
            const auto when = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(t));
            count += lim.allow(v6 ? Emission::Unreach6 : Emission::Unreach4, v6 ? peer6 : peer4, when);
        }
        busy_until = t;
    }
    return counts;
}

using Pmf = std::map<int, double>;

// The distribution of the sum of n independent draws of `one` (values shifted to 0).
std::vector<double> convolve_n(const Pmf& one, int n, int& offset) {
    const int lo = one.begin()->first, hi = one.rbegin()->first;
    std::vector<double> base(static_cast<std::size_t>(hi - lo + 1), 0.0);
    for (const auto& [v, p] : one) base[static_cast<std::size_t>(v - lo)] = p;
    std::vector<double> acc{1.0};
    for (int i = 0; i < n; ++i) {
        std::vector<double> next(acc.size() + base.size() - 1, 0.0);
        for (std::size_t a = 0; a < acc.size(); ++a) {
            if (acc[a] == 0) continue;
            for (std::size_t b = 0; b < base.size(); ++b) next[a + b] += acc[a] * base[b];
        }
        acc.swap(next);
    }
    offset = lo * n;
    return acc;
}

struct Interval {
    long lo = 0, hi = 0;
    double outside = 0;  // P(T < lo) + P(T > hi) under the model
};

// The narrowest two-sided interval with at most `tail` probability on each side.
Interval acceptance(const std::vector<double>& q, int offset, double tail) {
    Interval r;
    double below = 0;
    std::size_t a = 0;
    while (a < q.size() && below + q[a] <= tail) below += q[a++];
    double above = 0;
    std::size_t b = q.size();
    while (b > a + 1 && above + q[b - 1] <= tail) above += q[--b];
    r.lo = static_cast<long>(a) + offset;
    r.hi = static_cast<long>(b) - 1 + offset;
    r.outside = below + above;
    return r;
}

struct StatTest {
    int m = 0;           // the integer the deviations are taken from
    Interval sum, squares;
};

StatTest stat_test(const Pmf& pmf, int n, double alpha_per_burst) {
    StatTest t;
    double mean = 0;
    for (const auto& [v, p] : pmf) mean += v * p;
    t.m = static_cast<int>(std::lround(mean));
    int off = 0;
    const auto sums = convolve_n(pmf, n, off);  // sets off: not in one expression with its use
    t.sum = acceptance(sums, off, alpha_per_burst / 4);
    Pmf sq;
    for (const auto& [v, p] : pmf) sq[(v - t.m) * (v - t.m)] += p;
    const auto squares = convolve_n(sq, n, off);
    t.squares = acceptance(squares, off, alpha_per_burst / 4);
    return t;
}

std::string describe_burst(const Burst& b, std::size_t k) {
    char buf[160];
    if (k == 0)
        std::snprintf(buf, sizeof buf, "burst 0 (%d x IPv%s, the trial's start)", b.n,
                      b.family == "46" ? "4/6 alternating" : b.family.c_str());
    else
        std::snprintf(buf, sizeof buf, "burst %zu (%d x IPv%s at +%g s, late < %g s)", k, b.n,
                      b.family == "46" ? "4/6 alternating" : b.family.c_str(), b.at, b.slack);
    return buf;
}

}  // namespace

int main(int argc, char** argv) {
    std::string spec_text, plan_path, check_path;
    long runs = 10000;
    double alpha = 1e-4;
    std::uint64_t seed0 = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) usage(a + " needs a value");
            return argv[++i];
        };
        if (a == "--spec") spec_text = next();
        else if (a == "--plan") plan_path = next();
        else if (a == "--check") check_path = next();
        else if (a == "--runs") runs = std::stol(next());
        else if (a == "--alpha") alpha = std::stod(next());
        else if (a == "--seed") seed0 = std::stoull(next());
        else if (a == "-h" || a == "--help") usage("help");
        else usage("unknown argument " + a);
    }
    if (spec_text.empty() || plan_path.empty()) usage("--spec and --plan are needed");
    std::string error;
    const auto spec = LimiterSpec::parse(spec_text, &error);
    if (!spec) usage(error);
    Plan plan;
    json measured;
    try {
        std::ifstream f(plan_path);
        if (!f) usage("cannot read " + plan_path);
        plan = read_plan(json::parse(f));
        if (!check_path.empty()) {
            std::ifstream m(check_path);
            if (!m) usage("cannot read " + check_path);
            measured = json::parse(m);
        }
    } catch (const std::exception& e) {
        usage(std::string("bad plan or measurement: ") + e.what());
    }

    // ---- the model's distributions ----
    const auto t0 = std::chrono::steady_clock::now();
    const std::size_t nb = plan.bursts.size();
    std::vector<std::map<int, long>> hist(nb);
    std::vector<double> first_mean(nb, 0), rest_mean(nb, 0);
    std::vector<double> sxy(nb, 0), sx(nb, 0), sy(nb, 0), sxx(nb, 0), syy(nb, 0);
    long pairs = 0;
    for (long r = 0; r < runs; ++r) {
        const auto c = run_once(*spec, plan, seed0 + static_cast<std::uint64_t>(r));
        for (std::size_t k = 0; k < nb; ++k) {
            for (int i = 0; i < plan.trials; ++i) {
                const int v = c[static_cast<std::size_t>(i)][k];
                ++hist[k][v];
                (i == 0 ? first_mean[k] : rest_mean[k]) += v;
                if (i + 1 < plan.trials) {
                    const double x = v, y = c[static_cast<std::size_t>(i) + 1][k];
                    sxy[k] += x * y, sx[k] += x, sy[k] += y, sxx[k] += x * x, syy[k] += y * y;
                }
            }
        }
        pairs += plan.trials - 1;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("model    %s\n", spec->describe().c_str());
    std::printf("runs     %ld of the plan (%d trials, %g s apart, %s source%s), seeds %llu-%llu, %.1f s\n", runs,
                plan.trials, plan.period, plan.fresh ? "a fresh" : "one", plan.fresh ? " per trial" : "",
                static_cast<unsigned long long>(seed0), static_cast<unsigned long long>(seed0 + runs - 1), secs);
    const double samples = static_cast<double>(runs) * plan.trials;
    std::vector<Pmf> pmf(nb);
    int stat_bursts = 0;
    for (std::size_t k = 0; k < nb; ++k) {
        double mean = 0, var = 0;
        for (const auto& [v, n] : hist[k]) pmf[k][v] = static_cast<double>(n) / samples;
        for (const auto& [v, p] : pmf[k]) mean += v * p;
        for (const auto& [v, p] : pmf[k]) var += (v - mean) * (v - mean) * p;
        const double cov = sxy[k] / pairs - (sx[k] / pairs) * (sy[k] / pairs);
        const double vx = sxx[k] / pairs - (sx[k] / pairs) * (sx[k] / pairs);
        const double vy = syy[k] / pairs - (sy[k] / pairs) * (sy[k] / pairs);
        const double corr = vx > 0 && vy > 0 ? cov / std::sqrt(vx * vy) : 0;
        std::printf("%s: mean %.3f sd %.3f, %d..%d; trial 0 mean %.3f, later trials %.3f; consecutive trials' "
                    "correlation %+.4f (+-%.4f)\n",
                    describe_burst(plan.bursts[k], k).c_str(), mean, std::sqrt(var), pmf[k].begin()->first,
                    pmf[k].rbegin()->first, first_mean[k] / runs, rest_mean[k] / (samples - runs), corr,
                    2 / std::sqrt(static_cast<double>(pairs)));
        std::printf("  P(count):");
        for (const auto& [v, p] : pmf[k]) std::printf(" %d:%.3g", v, p);
        std::printf("\n");
        stat_bursts += plan.bursts[k].stat;
    }

    // ---- the test for n trials ----
    auto tests_for = [&](int n) {
        std::vector<StatTest> t(nb);
        for (std::size_t k = 0; k < nb; ++k)
            if (plan.bursts[k].stat) t[k] = stat_test(pmf[k], n, alpha / stat_bursts);
        return t;
    };
    auto print_tests = [&](int n, const std::vector<StatTest>& t) {
        double total = 0;
        for (std::size_t k = 0; k < nb; ++k) {
            if (plan.bursts[k].stat) {
                std::printf("accept   burst %zu: sum of the %d counts in [%ld, %ld] (P outside %.2g); sum of squared "
                            "deviations from %d in [%ld, %ld] (P outside %.2g)\n",
                            k, n, t[k].sum.lo, t[k].sum.hi, t[k].sum.outside, t[k].m, t[k].squares.lo, t[k].squares.hi,
                            t[k].squares.outside);
                total += t[k].sum.outside + t[k].squares.outside;
            } else if (pmf[k].size() == 1) {
                std::printf("accept   burst %zu: exactly %d in every trial (the model's only value)\n", k,
                            pmf[k].begin()->first);
            } else {
                std::printf("accept   burst %zu: a value the model produced, %d..%d (a value it never produced in "
                            "%.0f trials has P < %.2g a trial)\n",
                            k, pmf[k].begin()->first, pmf[k].rbegin()->first, samples, 3 / samples);
            }
        }
        std::printf("false alarm <= %.2g a run (the stat bursts' tails; the exact bursts add 0 under the model)\n",
                    total);
    };

    if (check_path.empty()) {
        print_tests(plan.trials, tests_for(plan.trials));
        return 0;
    }

    // ---- the measurement ----
    std::vector<std::vector<json>> got(static_cast<std::size_t>(plan.trials), std::vector<json>(nb));
    for (const auto& b : measured.at("bursts")) {
        const int i = b.at("trial").get<int>(), k = b.at("burst").get<int>();
        if (i < 0 || i >= plan.trials || k < 0 || static_cast<std::size_t>(k) >= nb) usage("measurement not of this plan");
        got[static_cast<std::size_t>(i)][static_cast<std::size_t>(k)] = b;
    }
    std::vector<int> valid;
    for (int i = 0; i < plan.trials; ++i) {
        std::string why;
        for (std::size_t k = 0; k < nb && why.empty(); ++k) {
            const json& b = got[static_cast<std::size_t>(i)][k];
            if (b.is_null()) {
                why = "burst " + std::to_string(k) + " not sent";
                continue;
            }
            const double first = b.at("first").get<double>(), last = b.at("last").get<double>();
            const double late = first - (k == 0 ? 0.0 : plan.bursts[k].at);
            char buf[120];
            if (k > 0 && late >= plan.bursts[k].slack) {
                std::snprintf(buf, sizeof buf, "burst %zu %.1f ms late (slack %.1f)", k, late * 1e3, plan.bursts[k].slack * 1e3);
                why = buf;
            } else if (last - first >= plan.bursts[k].span) {
                std::snprintf(buf, sizeof buf, "burst %zu took %.1f ms (span %.1f)", k, (last - first) * 1e3,
                              plan.bursts[k].span * 1e3);
                why = buf;
            }
        }
        if (why.empty()) valid.push_back(i);
        else std::printf("skip     trial %d: %s\n", i, why.c_str());
    }
    const int n = static_cast<int>(valid.size());
    std::printf("trials   %d of %d sent on time\n", n, plan.trials);
    if (n < plan.min_trials) {
        std::printf("FAIL     fewer than %d trials were sent on time: the sender was too slow to test anything\n",
                    plan.min_trials);
        return 1;
    }
    const auto tests = tests_for(n);
    print_tests(n, tests);
    bool ok = true;
    for (std::size_t k = 0; k < nb; ++k) {
        std::vector<int> counts;
        for (const int i : valid) counts.push_back(got[static_cast<std::size_t>(i)][k].at("back").get<int>());
        std::string list;
        for (const int c : counts) list += " " + std::to_string(c);
        if (plan.bursts[k].stat) {
            long sum = 0, sq = 0;
            for (const int c : counts) sum += c, sq += static_cast<long>(c - tests[k].m) * (c - tests[k].m);
            const bool s_ok = sum >= tests[k].sum.lo && sum <= tests[k].sum.hi;
            const bool q_ok = sq >= tests[k].squares.lo && sq <= tests[k].squares.hi;
            std::printf("%s burst %zu: sum %ld in [%ld, %ld] (mean %.2f)\n", s_ok ? "ok      " : "FAIL    ", k, sum,
                        tests[k].sum.lo, tests[k].sum.hi, static_cast<double>(sum) / n);
            std::printf("%s burst %zu: squared deviations from %d: %ld in [%ld, %ld] (sd about %.2f)\n",
                        q_ok ? "ok      " : "FAIL    ", k, tests[k].m, sq, tests[k].squares.lo, tests[k].squares.hi,
                        std::sqrt(static_cast<double>(sq) / n));
            ok = ok && s_ok && q_ok;
        } else {
            std::vector<int> outside;
            for (const int c : counts)
                if (!pmf[k].count(c)) outside.push_back(c);
            std::printf("%s burst %zu: every count a value of the model%s\n", outside.empty() ? "ok      " : "FAIL    ", k,
                        outside.empty() ? "" : (" (not: " + std::to_string(outside.front()) + ")").c_str());
            ok = ok && outside.empty();
        }
        std::printf("         counts:%s\n", list.c_str());
    }
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
