// Byte-string helpers shared by the probe database and the matcher: nmap's escapes
// in probe strings, and the clean-up nmap applies to version fields before it
// prints them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace scanfw::services {

// Decodes a probe string (or a $SUBST argument) the way nmap does: \0 \a \b \f \n
// \r \t \v and \xHH are bytes, a backslash before any other punctuation or byte is
// that character itself (\\ \| \"), a backslash before another letter or digit (no
// octal) or at the very end is an error: nullopt.
std::optional<std::string> unescape(std::string_view text);

// What nmap keeps of a version field for its outputs (portlist.cc, "cstringSanityCheck"):
// the bytes before the first NUL, at most `max_len` of them, each byte outside
// printable ASCII (0x20-0x7e) replaced by '.'. The result never holds a control
// character or an escape sequence, so it is safe on a terminal.
std::string printable_field(std::string_view text, std::size_t max_len);

// For logs and messages about raw bytes (responses, patterns): printable ASCII
// kept, everything else as \xHH (and a backslash as \\), cut after `max_len` bytes
// of input with "..." appended.
std::string escape_bytes(std::string_view bytes, std::size_t max_len = 200);

}  // namespace scanfw::services
