#include "system/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/errors.hpp"

namespace scanfw {

namespace {

// A user by name, or by number as nmap's and sudo's "#1001" or plain "1001".
const passwd* find_user(const std::string& user) {
    if (const passwd* pw = getpwnam(user.c_str())) return pw;
    const std::string digits = !user.empty() && user[0] == '#' ? user.substr(1) : user;
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 10)
        return nullptr;
    return getpwuid(static_cast<uid_t>(std::stoul(digits)));
}

void fail(const char* what) { throw RuntimeError(fmt::format("dropping privileges: {}: {}", what, std::strerror(errno))); }

}  // namespace

std::optional<Identity> identity_to_switch(const std::optional<std::string>& user) {
    if (user) {
        const passwd* pw = find_user(*user);
        if (!pw) throw RuntimeError(fmt::format("--user {}: no such user", *user));
        // Root, said so (or the user this process is already): nothing to switch.
        if (pw->pw_uid == 0 || pw->pw_uid == geteuid()) return std::nullopt;
        return Identity{pw->pw_uid, pw->pw_gid, *user};
    }
    const char* sudo_uid = std::getenv("SUDO_UID");
    const char* sudo_gid = std::getenv("SUDO_GID");
    if (sudo_uid && sudo_gid && geteuid() == 0) {
        const auto uid = static_cast<uid_t>(std::strtoul(sudo_uid, nullptr, 10));
        const auto gid = static_cast<gid_t>(std::strtoul(sudo_gid, nullptr, 10));
        if (uid != 0) return Identity{uid, gid, fmt::format("SUDO_UID {}", uid)};
    }
    return std::nullopt;
}

void check_user(const std::string& user) {
    const passwd* pw = find_user(user);
    if (!pw) throw InputError(fmt::format("--user {}: no such user on this system (a name, or a number)", user));
    if (geteuid() != 0 && pw->pw_uid != geteuid())
        throw InputError(fmt::format("--user {}: switching users needs root; run scanfw as root or drop --user", user));
}

bool running_privileged() {
    if (geteuid() == 0) return true;
    cap_t caps = cap_get_proc();
    if (!caps) return false;
    cap_flag_value_t raw = CAP_CLEAR, admin = CAP_CLEAR;
    cap_get_flag(caps, CAP_NET_RAW, CAP_EFFECTIVE, &raw);
    cap_get_flag(caps, CAP_NET_ADMIN, CAP_EFFECTIVE, &admin);
    cap_free(caps);
    return raw == CAP_SET || admin == CAP_SET;
}

void drop_privileges(const std::optional<std::string>& user) {
    const auto who = identity_to_switch(user);
    if (who && geteuid() != 0) throw RuntimeError("--user needs root: this process cannot switch users");
    // The bounding set first: that needs CAP_SETPCAP, which goes with the rest below.
    if (geteuid() == 0)
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; ++c) cap_drop_bound(c);
    if (who) {
        if (setgroups(0, nullptr) != 0) fail("setgroups");
        if (setresgid(who->gid, who->gid, who->gid) != 0) fail("setresgid");
        if (setresuid(who->uid, who->uid, who->uid) != 0) fail("setresuid");
        if (setuid(0) == 0) throw RuntimeError("dropping privileges: could switch back to root");
    }
    cap_t none = cap_init();  // every flag clear
    if (!none) fail("cap_init");
    const int rc = cap_set_proc(none);
    cap_free(none);
    if (rc != 0) fail("cap_set_proc");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("PR_SET_NO_NEW_PRIVS");
    spdlog::debug("privileges dropped: uid {} gid {}{}, no capabilities", getuid(), getgid(),
                  who ? fmt::format(" ({})", who->name) : "");
}

}  // namespace scanfw
