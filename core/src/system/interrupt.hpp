// SIGINT/SIGTERM: the first one asks the scan to stop (stop sending, wait half a
// second at most for replies in flight, finish the outputs); a second one to hurry
// (no more waiting for anything, but every output is still finished, the JSON summary
// line included); a third ends the process at once, outputs as they are.
#pragma once

namespace scanfw {

void install_stop_handlers();
bool stop_requested();
bool hurry_requested();  // asked twice
void request_stop();  // as a signal would (tests)
int stop_signal();    // the signal that asked, 0 if none

}  // namespace scanfw
