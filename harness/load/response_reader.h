#pragma once
// Parses an HTTP/1.1 response as it arrives, keeping only what a record needs: status, whether the
// header block and the whole message were received, and how many body bytes came. Built on
// Beast's basic_parser so nothing is allocated per response (header fields are not stored).
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

#include <cstdint>

namespace draincheck {

class ResponseReader : public boost::beast::http::basic_parser<false> {
public:
    explicit ResponseReader(bool head_request) {
        body_limit(boost::none);
        skip(head_request);   // a HEAD response announces a body it does not send
        eager(true);
    }

    unsigned status() const { return status_; }
    int replica() const { return replica_; }       // X-Draincheck-Replica, or -1
    int retries() const { return retries_; }       // X-Draincheck-Retried, or -1
    uint64_t body_bytes() const { return body_bytes_; }

private:
    using error_code = boost::beast::error_code;
    using string_view = boost::beast::string_view;

    void on_request_impl(boost::beast::http::verb, string_view, string_view, int, error_code&) override {}
    void on_response_impl(int code, string_view, int, error_code&) override { status_ = unsigned(code); }
    // The load balancer's tags (fleet runs): the replica that answered and the balancer's retries.
    // Unknown fields only, compared by length first: nothing is allocated or stored.
    void on_field_impl(boost::beast::http::field f, string_view name, string_view value, error_code&) override {
        if (f != boost::beast::http::field::unknown || name.size() < 19 || name.size() > 20) return;
        if (boost::beast::iequals(name, "x-draincheck-replica")) replica_ = small_number(value);
        else if (boost::beast::iequals(name, "x-draincheck-retried")) retries_ = small_number(value);
    }
    // A decimal number up to 254, or -1.
    static int small_number(string_view v) {
        int n = 0;
        if (v.empty() || v.size() > 3) return -1;
        for (char c : v) {
            if (c < '0' || c > '9') return -1;
            n = n * 10 + (c - '0');
        }
        return n <= 254 ? n : -1;
    }
    void on_header_impl(error_code&) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
    std::size_t on_body_impl(string_view body, error_code&) override {
        body_bytes_ += body.size();
        return body.size();
    }
    void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
        body_bytes_ += body.size();
        return body.size();
    }
    void on_finish_impl(error_code&) override {}

    unsigned status_ = 0;
    uint64_t body_bytes_ = 0;
    int replica_ = -1;
    int retries_ = -1;
};

}  // namespace draincheck
