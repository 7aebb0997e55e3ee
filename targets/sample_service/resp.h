#pragma once
// RESP2, the Redis wire protocol: commands out (arrays of bulk strings), replies in. Only the reply
// types the sample service uses are understood: simple string, error, integer, bulk string, nil.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sample {

struct RedisReply {
    enum class Type { simple_string, error, integer, bulk_string, nil };
    Type type = Type::nil;
    std::string text;        // simple string, error message or bulk string
    long long integer = 0;   // Type::integer
};

// `args` as RESP: "*<n>\r\n" then "$<len>\r\n<arg>\r\n" for each argument.
std::string encode_command(const std::vector<std::string>& args);

enum class ParseStatus { complete, incomplete, invalid };

// Parses the first reply in `input`. complete: `out` holds it and `consumed` its length in bytes;
// incomplete: more bytes are needed; invalid: not RESP2, or a type this parser does not take (arrays).
ParseStatus parse_reply(std::string_view input, RedisReply& out, size_t& consumed);

}  // namespace sample
