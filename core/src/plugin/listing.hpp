// scanfw --list-plugins: every plugin found, with its kind, protocol, carrier, API
// version, file and options; a file that did not load is listed with its error.
#pragma once

#include "plugin/plugins.hpp"

namespace scanfw {

// Prints the list on stdout; false when a file failed to load or none was found.
bool list_plugins(PluginRegistry& registry);

}  // namespace scanfw
