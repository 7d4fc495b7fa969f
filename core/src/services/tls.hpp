// The client side of the SSL/TLS tunnels version detection probes through, on
// non-blocking sockets: as nmap's nsock does for -sV, no certificate checks, every
// protocol version and cipher OpenSSL still has (security level 0), no SNI (the
// targets are addresses), and the session of one connection offered again on the
// next one to the same service.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

struct ssl_st;
struct ssl_ctx_st;
struct ssl_session_st;

namespace scanfw::services {

enum class TlsStatus { Done, WantRead, WantWrite, Closed, Failed };

class TlsSession;

class TlsContext {
public:
    TlsContext();  // throws std::runtime_error if OpenSSL cannot make a context
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;
    ssl_ctx_st* get() const { return ctx_; }

private:
    ssl_ctx_st* ctx_ = nullptr;
};

// A saved session, to resume on the next connection (nmap does the same).
struct TlsSavedSession {
    ssl_session_st* session = nullptr;
    TlsSavedSession() = default;
    TlsSavedSession(const TlsSavedSession&) = delete;
    TlsSavedSession& operator=(const TlsSavedSession&) = delete;
    ~TlsSavedSession();
    void reset(ssl_session_st* s);
};

// One connection's TLS state over a connected non-blocking socket it does not own.
class TlsSession {
public:
    TlsSession(const TlsContext& ctx, int fd, const TlsSavedSession& resume);
    ~TlsSession();
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    TlsStatus handshake();
    // Reads up to `cap` bytes into buf; `got` is how many (Done). Closed is the
    // peer's end of the stream (close_notify or a plain TCP close).
    TlsStatus read(char* buf, std::size_t cap, std::size_t& got);
    // Writes all of buf[0, len) or nothing yet (WantRead/WantWrite: call again with
    // the same bytes).
    TlsStatus write(const char* buf, std::size_t len);
    void save_session(TlsSavedSession& into) const;
    const std::string& error() const { return error_; }  // why the last Failed

private:
    TlsStatus status_of(int rc);
    ssl_st* ssl_ = nullptr;
    std::string error_;
};

}  // namespace scanfw::services
