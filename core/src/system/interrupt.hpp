// SIGINT/SIGTERM: the first one asks the scan to stop (stop sending, wait briefly
// for replies in flight, finish the outputs); a second one ends the process at once.
#pragma once

namespace scanfw {

void install_stop_handlers();
bool stop_requested();
void request_stop();  // as a signal would (tests)
int stop_signal();    // the signal that asked, 0 if none

}  // namespace scanfw
