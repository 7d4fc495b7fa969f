// What `scanfw --version` prints: scanfw's version, the plugin API version, and the
// versions of the libraries it was built with, as nmap's --version does.
#pragma once

#include <string>

namespace scanfw {

std::string version_text();

}  // namespace scanfw
