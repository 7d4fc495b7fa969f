// Giving up privileges once the raw socket and the capture are open.
#pragma once

#include <optional>
#include <string>

#include <sys/types.h>

namespace scanfw {

struct Identity {
    uid_t uid;
    gid_t gid;
    std::string name;  // as the user gave it, or "SUDO_UID 1001"
};

// Whom drop_privileges() will switch to: `user` (--user: a name or a number), else
// $SUDO_UID/$SUDO_GID under sudo; none to stay (not root, or root wanted: --user root).
std::optional<Identity> identity_to_switch(const std::optional<std::string>& user);

// Switches to `user` (--user), else to $SUDO_UID/$SUDO_GID when running under sudo,
// and drops every capability (effective, permitted, inheritable, and the bounding
// set where allowed); sets no_new_privs. As root with neither, stays uid 0 without
// capabilities (also with --user root or --user 0). Throws RuntimeError when it
// cannot (an unknown user, a failed call).
void drop_privileges(const std::optional<std::string>& user);

// Throws InputError when `user` (--user) is no user of this system, or when switching
// to it needs root and this process is not.
void check_user(const std::string& user);

// True when this process holds privileges worth guarding (euid 0, or any effective
// capability, e.g. from setcap on the binary).
bool running_privileged();

}  // namespace scanfw
