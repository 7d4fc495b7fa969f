// One stable copy of each short string (technique names, reasons) that results read
// back from a file or the spool carry as string_views, for the life of the process.
#pragma once

#include <string_view>

namespace scanfw {

std::string_view intern(std::string_view text);

}  // namespace scanfw
