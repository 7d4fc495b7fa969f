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

struct Identity {
    uid_t uid;
    gid_t gid;
    std::string name;
};

std::optional<Identity> wanted_identity(const std::optional<std::string>& user) {
    if (user) {
        errno = 0;
        const passwd* pw = getpwnam(user->c_str());
        if (!pw) throw RuntimeError(fmt::format("--user {}: no such user", *user));
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

void fail(const char* what) { throw RuntimeError(fmt::format("dropping privileges: {}: {}", what, std::strerror(errno))); }

}  // namespace

void check_user(const std::string& user) {
    if (!getpwnam(user.c_str())) throw InputError(fmt::format("--user {}: no such user on this system", user));
    if (geteuid() != 0) throw InputError(fmt::format("--user {}: switching users needs root; run scanfw as root or drop --user", user));
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
    const auto who = wanted_identity(user);
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
