// The one place service detection names the core's InputError: the main engineer
// may move it out of ports.hpp, and then only this include changes.
#pragma once

#include "scanfw/ports.hpp"

namespace scanfw::services {

using scanfw::InputError;  // "FILE:LINE: what is wrong" for a probe file that cannot be used

}  // namespace scanfw::services
