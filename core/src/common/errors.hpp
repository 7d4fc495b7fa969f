// The errors that end a scan, by who is to blame: the exit status follows them
// (main.cpp: InputError 2, RuntimeError 1).
#pragma once

#include <stdexcept>

namespace scanfw {

// Bad usage or input: arguments, ports, targets, profiles, records. The message names
// what is wrong and where ("FILE:LINE:COL: ..."). Exit status 2.
struct InputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The scan could not run (no privileges, no socket, no capture, a write failed).
// Exit status 1.
struct RuntimeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace scanfw
