#include "engine/timing.hpp"

#include <string_view>

namespace scanfw {

// The same ideas as nmap's templates: slower ones wait longer and send less; faster
// ones trust a quick network. scanfw's default (-T3) is 10,000 probes a second at
// most, as zmap's is. The timeout's floor is lower than nmap's 100 ms: a host's
// wait follows its measured round trips, and on a link of well under a millisecond
// 10 ms still leaves a wide margin; an answer that comes after a retransmission
// anyway counts as loss, which raises the tries and slows the rate.
Timing timing_template(int level) {
    using std::chrono::milliseconds;
    Timing t;
    switch (level) {
        case 0:  // paranoid: one probe every 5 minutes
            t.rate = 1.0 / 300;
            t.timeout = t.min_timeout = t.max_timeout = t.app_wait = milliseconds(300000);
            break;
        case 1:  // sneaky: one probe every 15 seconds
            t.rate = 1.0 / 15;
            t.timeout = t.min_timeout = t.max_timeout = t.app_wait = milliseconds(15000);
            break;
        case 2:  // polite: 2.5 probes a second
            t.rate = 2.5;
            t.min_timeout = milliseconds(100);
            t.app_wait = milliseconds(10000);
            break;
        case 4:  // aggressive
            t.rate = 100000;
            t.timeout = milliseconds(500);
            t.min_timeout = milliseconds(5);
            t.max_timeout = t.app_wait = milliseconds(1250);
            t.max_retries = 6;
            break;
        case 5:  // insane
            t.rate = 1000000;
            t.timeout = milliseconds(250);
            t.min_timeout = milliseconds(5);
            t.max_timeout = t.app_wait = milliseconds(300);
            t.max_retries = 6;
            break;
        default: break;  // 3: normal
    }
    return t;
}

int timing_level(std::string_view text) {
    static constexpr std::string_view kNames[] = {"paranoid", "sneaky", "polite", "normal", "aggressive", "insane"};
    for (int i = 0; i < 6; ++i)
        if (text == kNames[i] || (text.size() == 1 && text[0] == '0' + i)) return i;
    return -1;
}

}  // namespace scanfw
