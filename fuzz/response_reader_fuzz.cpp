// Any bytes as an HTTP response, fed to the load generator's response reader in pieces of every size
// the input chooses: it must never crash, read past its buffers, or count more body than it was given.
#include "load/response_reader.h"

#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    bool head = data[0] & 1;
    size_t piece = 1 + data[1] % 64;
    std::string input(reinterpret_cast<const char*>(data) + 2, size - 2);
    draincheck::ResponseReader reader(head);
    std::string pending;
    for (size_t at = 0; at < input.size() && !reader.is_done(); at += piece) {
        pending.append(input, at, piece);
        boost::beast::error_code ec;
        size_t used = reader.put(boost::asio::buffer(pending), ec);
        if (used > pending.size()) __builtin_trap();
        pending.erase(0, used);
        if (ec && ec != boost::beast::http::error::need_more) break;
    }
    if (!reader.is_done() && reader.is_header_done() && reader.need_eof()) {
        boost::beast::error_code ec;
        reader.put_eof(ec);
    }
    if (reader.body_bytes() > input.size()) __builtin_trap();
    return 0;
}
