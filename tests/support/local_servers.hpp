// Real servers on loopback for the service prober's tests (services_prober_test.cpp):
// each listens on 127.0.0.1 and ::1 (ephemeral ports), runs a handler per accepted
// connection on its own thread with blocking I/O, and stops, closing everything,
// when destroyed. TLS through OpenSSL with a key and certificate made in memory.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace scanfw::testing {

// Binds a socket of `type` on the loopback address of `family` (AF_INET or
// AF_INET6), port 0; returns the fd and sets `port`.
inline int bind_loopback(int family, int type, std::uint16_t& port) {
    const int fd = socket(family, type | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket");
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (family == AF_INET) {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        close(fd);
        throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
    }
    getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                   : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    return fd;
}

inline void set_recv_timeout(int fd, std::chrono::milliseconds t) {
    timeval tv{static_cast<time_t>(t.count() / 1000), static_cast<suseconds_t>((t.count() % 1000) * 1000)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

inline bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Reads what arrives within `wait` (up to 64 KiB); "" on close or timeout.
inline std::string recv_some(int fd, std::chrono::milliseconds wait = std::chrono::milliseconds(2000)) {
    set_recv_timeout(fd, wait);
    char buf[65536];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// Waits until the peer closes (or `limit` passes), discarding what it sends.
inline void drain(int fd, std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
    set_recv_timeout(fd, limit);
    char buf[4096];
    while (recv(fd, buf, sizeof buf, 0) > 0) {
    }
}

class TcpServer {
public:
    using Handler = std::function<void(int fd)>;
    explicit TcpServer(Handler handler) : handler_(std::move(handler)) {
        v4_ = bind_loopback(AF_INET, SOCK_STREAM, port4_);
        v6_ = bind_loopback(AF_INET6, SOCK_STREAM, port6_);
        listen(v4_, 512);
        listen(v6_, 512);
        threads_.emplace_back([this] { accept_loop(v4_); });
        threads_.emplace_back([this] { accept_loop(v6_); });
    }
    ~TcpServer() {
        stopping_ = true;
        shutdown(v4_, SHUT_RDWR);  // wakes accept()
        shutdown(v6_, SHUT_RDWR);
        for (auto& t : threads_) t.join();
        std::vector<std::thread> handlers;
        {
            std::lock_guard lock(mu_);
            for (int fd : conns_) shutdown(fd, SHUT_RDWR);  // wakes handlers blocked in I/O
            handlers.swap(handlers_);
        }
        for (auto& t : handlers) t.join();
        close(v4_);
        close(v6_);
    }
    std::uint16_t port4() const { return port4_; }
    std::uint16_t port6() const { return port6_; }
    int accepted() const { return accepted_.load(); }
    int max_concurrent() const { return max_concurrent_.load(); }

private:
    void accept_loop(int lfd) {
        while (!stopping_) {
            const int fd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                if (stopping_ || errno == EINVAL) return;
                continue;
            }
            ++accepted_;
            std::lock_guard lock(mu_);
            conns_.push_back(fd);
            const int now = ++open_;
            if (now > max_concurrent_) max_concurrent_ = now;
            handlers_.emplace_back([this, fd] {
                handler_(fd);
                std::lock_guard l(mu_);
                --open_;
                conns_.erase(std::find(conns_.begin(), conns_.end(), fd));
                close(fd);
            });
        }
    }

    Handler handler_;
    int v4_ = -1, v6_ = -1;
    std::uint16_t port4_ = 0, port6_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<int> accepted_{0}, max_concurrent_{0};
    int open_ = 0;
    std::mutex mu_;
    std::vector<int> conns_;
    std::vector<std::thread> threads_, handlers_;
};

// A UDP responder: `reply` maps a datagram to the answer ("" for none).
class UdpServer {
public:
    using Reply = std::function<std::string(const std::string&)>;
    explicit UdpServer(Reply reply) : reply_(std::move(reply)) {
        v4_ = bind_loopback(AF_INET, SOCK_DGRAM, port4_);
        v6_ = bind_loopback(AF_INET6, SOCK_DGRAM, port6_);
        threads_.emplace_back([this] { loop(v4_); });
        threads_.emplace_back([this] { loop(v6_); });
    }
    ~UdpServer() {
        stopping_ = true;
        for (auto& t : threads_) t.join();
        close(v4_);
        close(v6_);
    }
    std::uint16_t port4() const { return port4_; }
    std::uint16_t port6() const { return port6_; }
    std::vector<std::string> received() {
        std::lock_guard l(mu_);
        return received_;
    }

private:
    void loop(int fd) {
        set_recv_timeout(fd, std::chrono::milliseconds(50));
        char buf[65536];
        while (!stopping_) {
            sockaddr_storage from{};
            socklen_t len = sizeof from;
            const ssize_t n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n < 0) continue;
            const std::string req(buf, static_cast<std::size_t>(n));
            {
                std::lock_guard l(mu_);
                received_.push_back(req);
            }
            const std::string answer = reply_(req);
            if (!answer.empty()) sendto(fd, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
        }
    }
    Reply reply_;
    int v4_ = -1, v6_ = -1;
    std::uint16_t port4_ = 0, port6_ = 0;
    std::atomic<bool> stopping_{false};
    std::mutex mu_;
    std::vector<std::string> received_;
    std::vector<std::thread> threads_;
};

// A TLS server context with a fresh P-256 key and a self-signed certificate.
class TlsServerContext {
public:
    TlsServerContext() {
        EVP_PKEY* key = EVP_EC_gen("P-256");
        X509* cert = X509_new();
        if (key == nullptr || cert == nullptr) throw std::runtime_error("key/cert");
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), -60);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("scanfw-test"), -1,
                                   -1, 0);
        X509_set_issuer_name(cert, name);
        X509_sign(cert, key, EVP_sha256());
        ctx_ = SSL_CTX_new(TLS_server_method());
        if (ctx_ == nullptr || SSL_CTX_use_certificate(ctx_, cert) != 1 || SSL_CTX_use_PrivateKey(ctx_, key) != 1)
            throw std::runtime_error("SSL_CTX");
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    ~TlsServerContext() { SSL_CTX_free(ctx_); }
    SSL_CTX* get() const { return ctx_; }

private:
    SSL_CTX* ctx_ = nullptr;
};

}  // namespace scanfw::testing
