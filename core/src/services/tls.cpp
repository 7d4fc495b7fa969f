#include "services/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace scanfw::services {

namespace {
std::string openssl_errors() {
    std::string out;
    while (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}
}  // namespace

TlsContext::TlsContext() {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) throw std::runtime_error("SSL_CTX_new: " + openssl_errors());
    // What a scanner needs: talk to anything, old or misconfigured, and verify
    // nothing (the answer is what we want to see, not whom to trust).
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_security_level(ctx_, 0);
    SSL_CTX_set_min_proto_version(ctx_, 0);
    SSL_CTX_set_max_proto_version(ctx_, 0);
    SSL_CTX_set_cipher_list(ctx_, "ALL:@SECLEVEL=0");
    // A peer that closes without close_notify reads as end of stream, not as an error.
    SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_ALL);
    SSL_CTX_set_mode(ctx_, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_CLIENT);
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

TlsSavedSession::~TlsSavedSession() { SSL_SESSION_free(session); }
void TlsSavedSession::reset(ssl_session_st* s) {
    SSL_SESSION_free(session);
    session = s;
}

TlsSession::TlsSession(const TlsContext& ctx, int fd, const TlsSavedSession& resume) {
    ssl_ = SSL_new(ctx.get());
    if (ssl_ == nullptr) throw std::runtime_error("SSL_new: " + openssl_errors());
    SSL_set_fd(ssl_, fd);
    if (resume.session != nullptr) SSL_set_session(ssl_, resume.session);
    SSL_set_connect_state(ssl_);
}

TlsSession::~TlsSession() { SSL_free(ssl_); }  // no shutdown: the socket is about to be reset

TlsStatus TlsSession::status_of(int rc) {
    const int err = SSL_get_error(ssl_, rc);
    switch (err) {
        case SSL_ERROR_WANT_READ: return TlsStatus::WantRead;
        case SSL_ERROR_WANT_WRITE: return TlsStatus::WantWrite;
        case SSL_ERROR_ZERO_RETURN: return TlsStatus::Closed;
        case SSL_ERROR_SYSCALL:
            if (errno == 0) return TlsStatus::Closed;
            error_ = std::strerror(errno);
            ERR_clear_error();
            return TlsStatus::Failed;
        default:
            error_ = openssl_errors();
            if (error_.empty()) error_ = "SSL error " + std::to_string(err);
            return TlsStatus::Failed;
    }
}

TlsStatus TlsSession::handshake() {
    ERR_clear_error();
    errno = 0;
    const int rc = SSL_connect(ssl_);
    if (rc == 1) return TlsStatus::Done;
    const TlsStatus s = status_of(rc);
    return s == TlsStatus::Closed ? TlsStatus::Failed : s;  // closed during the handshake: it failed
}

TlsStatus TlsSession::read(char* buf, std::size_t cap, std::size_t& got) {
    got = 0;
    ERR_clear_error();
    errno = 0;
    const int rc = SSL_read_ex(ssl_, buf, cap, &got) == 1 ? 1 : 0;
    if (rc == 1) return TlsStatus::Done;
    return status_of(rc);
}

TlsStatus TlsSession::write(const char* buf, std::size_t len) {
    ERR_clear_error();
    errno = 0;
    std::size_t written = 0;
    if (SSL_write_ex(ssl_, buf, len, &written) == 1) return TlsStatus::Done;
    return status_of(0);
}

void TlsSession::save_session(TlsSavedSession& into) const {
    if (SSL_SESSION* s = SSL_get1_session(ssl_)) into.reset(s);
}

}  // namespace scanfw::services
